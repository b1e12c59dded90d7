#!/usr/bin/env python3
"""The independent PyTorch reference for gptlens: fixtures and side-by-side benchmarks.

gptlens computes GPT-2 in Rust; this script computes the same things with
transformers' GPT2LMHeadModel so the Rust tests have an independent answer to
compare against. CI does not need PyTorch: the fixtures it writes are committed.

Set up a virtual environment OUTSIDE the repository once:

    python3 -m venv ~/refvenv
    ~/refvenv/bin/pip install torch transformers safetensors numpy

Subcommands (run from the repository root):

    ~/refvenv/bin/python scripts/reference.py fixtures
        Writes tests/fixtures/: two seeded random GPT-2 models with odd sizes (and
        four more, one per GPT2Config switch that changes the math), the
        float64 forward pass of a fixed prompt through each (reference.safetensors),
        loss and gradients of a fixed batch (grads.safetensors), and a forward
        fixture for every model folder in tiny-models/ (tests/fixtures/tiny-models/).

    ~/refvenv/bin/python scripts/reference.py finetune-fixtures
        Writes the fine-tuning fixtures: the masked (response-only) loss and every
        gradient on a fixed batch of prompt/response pairs through the saved
        random-odd model (tests/fixtures/random-odd/masked-grads.safetensors), and
        transformers' apply_chat_template for a few conversations and templates,
        the built-in default included (tests/fixtures/chat-templates.json).

    ~/refvenv/bin/python scripts/reference.py distil-fixtures
        Writes tests/fixtures/random-odd/distil-grads.safetensors: the
        distillation loss alpha*CE + (1-alpha)*T^2*KL(softmax(u/T) || softmax(z/T))
        of the random-odd student against fixed random teacher logits u
        (inputs, targets, teacher_logits, alpha, temperature, loss, ce, kl,
        grad.<name>), float64 autograd.

    ~/refvenv/bin/python scripts/reference.py lora-fixtures
        Writes tests/fixtures/random-odd/lora-grads.safetensors: rank-3 LoRA
        adapters (fixed A and B, both non-zero) on every block's c_attn, c_proj,
        c_fc and mlp.c_proj of the saved random-odd model, W = W0 + (alpha/r)·A·B,
        the masked loss of the finetune-fixtures batch and dL/dA, dL/dB from
        float64 autograd. Writes nothing else.

    ~/refvenv/bin/python scripts/reference.py tiny-model-fixture NAME
        Writes only tests/fixtures/tiny-models/NAME.safetensors (the forward
        fixture `fixtures` writes for every tiny-models/ folder), for a newly
        shipped model.

    ~/refvenv/bin/python scripts/reference.py bench-decode --model DIR --tokens 64 [--json]
        PyTorch decode speed (fp32, KV cache, greedy, exactly N tokens), with the
        same prompt and JSON keys as `gptlens bench --json`.

    ~/refvenv/bin/python scripts/reference.py bench-train [--batch 16 --ctx 256 --steps 10] [--json]
        PyTorch training throughput (AdamW) for the default tiny-model shape on
        random tokens.

Fixture contract (names other tests rely on):

  reference.safetensors / tiny-models/<name>.safetensors (float64 reference, stored f32):
    input_ids [T] I64, logits [T,V],
    resid.{i} [T,C] for i = 0..n_layer: the residual stream entering block i;
        resid.{n_layer} is the output of the last block, before ln_f,
    ln_1.{i}.mean, ln_1.{i}.var, ln_2.{i}.mean, ln_2.{i}.var, ln_f.mean, ln_f.var [T]
        (mean and biased variance of the LayerNorm's input),
    attn.{i} [H,T,T] attention probabilities, mlp_act.{i} [T,M] after GELU.
  grads.safetensors:
    inputs [B,T] I64, targets [B,T] I64, loss [1] (mean cross-entropy over all
    B*T positions), grad.<name> for every parameter with GPT-2 names without the
    `transformer.` prefix (Conv1D [in,out] layout; grad.wte.weight includes the
    tied unembedding's share).
  masked-grads.safetensors (random-odd only): inputs, targets [B,T] I64, mask
    [B,T] F32 (1 where predicting the target counts: response tokens and the
    closing end-of-text token; 0 for prompt and padding), loss [1] (the masked
    mean sum(mask*ce)/sum(mask)), grad.<name> as above.
  chat-templates.json: {"templates": {name: source}, "cases": [{"template",
    "messages", "add_generation_prompt", "bos_token", "eos_token", "rendered"}]}.
"""

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import save_file
from transformers import GPT2Config, GPT2LMHeadModel

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
TINY_MODELS = ROOT / "tiny-models"
BENCH_PROMPT = "Once upon a time, there was a little"
# The text the tiny-model fixtures run (tokenized with each model's tokenizer).
TINY_PROMPT = "Once upon a time, there was a little girl named Lily. She liked to"

# Odd sizes on purpose: nothing is a power of two, so a wrong stride or a
# transposed matrix cannot hide behind a square or aligned shape.
RANDOM_MODELS = {
    "random-odd": dict(n_layer=3, n_head=5, n_embd=60, vocab_size=97, n_positions=23, n_inner=None, seed=1234),
    "random-inner": dict(n_layer=2, n_head=3, n_embd=42, vocab_size=71, n_positions=19, n_inner=100, seed=4321),
}
# GPT2Config switches that change the math, one fixture each (forward only):
# the engine must follow them, and the Rust tests check that ignoring the
# switch would be caught.
VARIANT_MODELS = {
    # Own lm_head.weight instead of the tied wte.
    "random-untied": dict(n_layer=2, n_head=3, n_embd=33, vocab_size=89, n_positions=21, n_inner=None, seed=555,
                          extra=dict(tie_word_embeddings=False)),
    # Scores of layer l (0-based) divided by l + 1 as well as by √dₖ.
    "random-layer-scale": dict(n_layer=3, n_head=2, n_embd=26, vocab_size=61, n_positions=19, n_inner=None, seed=556,
                               extra=dict(scale_attn_by_inverse_layer_idx=True)),
    # No 1/√dₖ at all.
    "random-unscaled": dict(n_layer=2, n_head=4, n_embd=28, vocab_size=53, n_positions=19, n_inner=None, seed=557,
                            extra=dict(scale_attn_weights=False)),
    # The exact erf GELU ("gelu") instead of GPT-2's tanh approximation.
    "random-gelu": dict(n_layer=2, n_head=2, n_embd=30, vocab_size=67, n_positions=19, n_inner=None, seed=558,
                        extra=dict(activation_function="gelu")),
}
# transformers saves GPT2LMHeadModel tensors as `transformer.h.0...`; older hub
# checkpoints (gpt2, distilgpt2) have no prefix. One fixture of each kind.
STRIP_PREFIX = {"random-inner"}
PROMPT_LEN = 17
GRAD_BATCH, GRAD_T = 3, 11


def gpt2_config(n_layer, n_head, n_embd, vocab_size, n_positions, n_inner, extra=None):
    kwargs = dict(
        n_layer=n_layer,
        n_head=n_head,
        n_embd=n_embd,
        vocab_size=vocab_size,
        n_positions=n_positions,
        n_ctx=n_positions,
        n_inner=n_inner,
        activation_function="gelu_new",
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        layer_norm_epsilon=1e-5,
        tie_word_embeddings=True,
        architectures=["GPT2LMHeadModel"],
        bos_token_id=vocab_size - 1,
        eos_token_id=vocab_size - 1,
    )
    kwargs.update(extra or {})
    return GPT2Config(**kwargs)


def perturbed_model(spec):
    """A GPT2LMHeadModel whose every parameter is random, LayerNorm gains and
    all biases included, with scales large enough that attention is far from
    uniform and GELU sees both signs."""
    cfg = gpt2_config(**{k: v for k, v in spec.items() if k != "seed"})
    torch.manual_seed(spec["seed"])
    model = GPT2LMHeadModel(cfg).eval()
    g = torch.Generator().manual_seed(spec["seed"] + 1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=g, dtype=torch.float32)
            if name.endswith(("ln_1.weight", "ln_2.weight", "ln_f.weight")):
                p.copy_(1.0 + 0.2 * noise)
            elif name.endswith(".bias"):
                p.copy_(0.1 * noise)
            elif "wte" in name or "wpe" in name or name == "lm_head.weight":
                p.copy_(0.3 * noise)
            else:
                p.copy_(noise / (p.shape[0] ** 0.5) * 1.2)
    tied = model.lm_head.weight.data_ptr() == model.transformer.wte.weight.data_ptr()
    assert tied == cfg.tie_word_embeddings, "lm_head must be tied to wte exactly when the config says so"
    return model


def open_tokenizer(folder):
    """The folder's tokenizer.json, without the truncation the hub's GPT-2 file asks for."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(Path(folder) / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    return tok


def load_model(folder, dtype):
    model = GPT2LMHeadModel.from_pretrained(folder, attn_implementation="eager").eval()
    return model.to(dtype)


def f32(t):
    return np.ascontiguousarray(t.detach().to(torch.float64).cpu().numpy().astype(np.float32))


def forward_reference(model, ids):
    """The float64 forward pass of `ids` with every stage the Rust tests compare."""
    model = model.double()
    out = {"input_ids": np.asarray(ids, dtype=np.int64)}
    hooks = []
    blocks = model.transformer.h
    n_layer = len(blocks)

    def block_input(i):
        def hook(_mod, args, kwargs):
            x = args[0] if args else kwargs["hidden_states"]
            out[f"resid.{i}"] = f32(x[0])

        return hook

    def ln_input(key):
        def hook(_mod, args):
            x = args[0][0]
            out[f"{key}.mean"] = f32(x.mean(-1))
            out[f"{key}.var"] = f32(x.var(-1, unbiased=False))
            if key == "ln_f":
                out[f"resid.{n_layer}"] = f32(x)

        return hook

    def act_output(i):
        def hook(_mod, _args, y):
            out[f"mlp_act.{i}"] = f32(y[0])

        return hook

    for i, b in enumerate(blocks):
        hooks.append(b.register_forward_pre_hook(block_input(i), with_kwargs=True))
        hooks.append(b.ln_1.register_forward_pre_hook(ln_input(f"ln_1.{i}")))
        hooks.append(b.ln_2.register_forward_pre_hook(ln_input(f"ln_2.{i}")))
        hooks.append(b.mlp.act.register_forward_hook(act_output(i)))
    hooks.append(model.transformer.ln_f.register_forward_pre_hook(ln_input("ln_f")))
    with torch.no_grad():
        res = model(torch.tensor([ids]), output_attentions=True, use_cache=False)
    for h in hooks:
        h.remove()
    out["logits"] = f32(res.logits[0])
    assert len(res.attentions) == n_layer
    for i, a in enumerate(res.attentions):
        out[f"attn.{i}"] = f32(a[0])
    return out


def grads_reference(model, vocab, seed):
    """Loss and gradient of every parameter for a fixed batch, float64 autograd."""
    model = model.double().train()  # dropout is 0, so train mode changes nothing but intent
    g = torch.Generator().manual_seed(seed)
    inputs = torch.randint(0, vocab, (GRAD_BATCH, GRAD_T), generator=g)
    targets = torch.randint(0, vocab, (GRAD_BATCH, GRAD_T), generator=g)
    model.zero_grad()
    logits = model(inputs, use_cache=False).logits
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, vocab), targets.reshape(-1))
    loss.backward()
    out = {
        "inputs": inputs.numpy().astype(np.int64),
        "targets": targets.numpy().astype(np.int64),
        "loss": np.array([loss.item()], dtype=np.float32),
    }
    for name, p in model.transformer.named_parameters():
        out[f"grad.{name}"] = f32(p.grad)
    model.eval()
    return out


def strip_prefix(path):
    from safetensors.torch import load_file, save_file as save_torch

    tensors = load_file(str(path))
    save_torch({k.removeprefix("transformer."): v for k, v in tensors.items()}, str(path), metadata={"format": "pt"})


def fixed_prompt(vocab, seed):
    g = torch.Generator().manual_seed(seed + 2)
    return torch.randint(0, vocab, (PROMPT_LEN,), generator=g).tolist()


def write(path, tensors, meta):
    path.parent.mkdir(parents=True, exist_ok=True)
    # One metadata key: safetensors writes several in random order, and the
    # fixtures should be byte-identical from run to run.
    save_file(tensors, str(path), metadata={"about": "; ".join(f"{k}: {v}" for k, v in meta.items())})
    size = path.stat().st_size
    assert size < 1_000_000, f"{path} is {size} bytes; fixtures must stay small"
    print(f"wrote {path.relative_to(ROOT)} ({size / 1024:.0f} KiB, {len(tensors)} tensors)")


def check_reorder_is_harmless(folder):
    """gptlens accepts reorder_and_upcast_attn and ignores it: the switch only
    computes the same scaled scores in float32 with the scale folded into the
    matmul, for half-precision training. transformers refuses it in float64,
    so this compares float32 runs with and without it."""
    ids = torch.tensor([fixed_prompt(VARIANT_MODELS[folder.name]["vocab_size"], 0)])
    logits = []
    for reorder in (False, True):
        model = GPT2LMHeadModel.from_pretrained(folder, attn_implementation="eager",
                                                reorder_and_upcast_attn=reorder).eval()
        with torch.no_grad():
            logits.append(model(ids, use_cache=False).logits)
    diff = (logits[0] - logits[1]).abs().max().item()
    print(f"reorder_and_upcast_attn on {folder.name} (float32): max |Δlogit| {diff:.2e}")
    assert diff < 1e-5, "reorder_and_upcast_attn changes the logits; gptlens must not ignore it"


def cmd_fixtures(_args):
    torch.set_num_threads(2)
    meta = {"generator": "scripts/reference.py", "torch": torch.__version__, "precision": "float64, stored f32"}
    for name, spec in RANDOM_MODELS.items():
        folder = FIXTURES / name
        folder.mkdir(parents=True, exist_ok=True)
        perturbed_model(spec).save_pretrained(folder, safe_serialization=True)
        (folder / "generation_config.json").unlink(missing_ok=True)
        if name in STRIP_PREFIX:
            strip_prefix(folder / "model.safetensors")
        # Compute from what was saved, so the fixture is the answer for the file the Rust side loads.
        ids = fixed_prompt(spec["vocab_size"], spec["seed"])
        fwd = forward_reference(load_model(folder, torch.float64), ids)
        write(folder / "reference.safetensors", fwd, meta)
        grads = grads_reference(load_model(folder, torch.float64), spec["vocab_size"], spec["seed"])
        write(folder / "grads.safetensors", grads, meta)
    for name, spec in VARIANT_MODELS.items():
        folder = FIXTURES / name
        folder.mkdir(parents=True, exist_ok=True)
        perturbed_model(spec).save_pretrained(folder, safe_serialization=True)
        (folder / "generation_config.json").unlink(missing_ok=True)
        ids = fixed_prompt(spec["vocab_size"], spec["seed"])
        fwd = forward_reference(load_model(folder, torch.float64), ids)
        write(folder / "reference.safetensors", fwd, meta)
    check_reorder_is_harmless(FIXTURES / "random-layer-scale")
    models = sorted(p for p in TINY_MODELS.glob("*") if (p / "config.json").is_file()) if TINY_MODELS.is_dir() else []
    if not models:
        print("no models in tiny-models/ yet: no tiny-model fixtures written")
    for folder in models:
        ids = open_tokenizer(folder).encode(TINY_PROMPT, add_special_tokens=False).ids
        fwd = forward_reference(load_model(folder, torch.float64), ids)
        write(FIXTURES / "tiny-models" / f"{folder.name}.safetensors", fwd, dict(meta, prompt=TINY_PROMPT))


def cmd_tiny_model_fixture(args):
    """The forward fixture of one folder of tiny-models/ only (what `fixtures`
    writes for each), for a newly shipped model without touching the others."""
    torch.set_num_threads(2)
    meta = {"generator": "scripts/reference.py", "torch": torch.__version__, "precision": "float64, stored f32"}
    folder = TINY_MODELS / args.name
    if not (folder / "config.json").is_file():
        sys.exit(f"error: tiny-models/{args.name} has no config.json")
    ids = open_tokenizer(folder).encode(TINY_PROMPT, add_special_tokens=False).ids
    fwd = forward_reference(load_model(folder, torch.float64), ids)
    write(FIXTURES / "tiny-models" / f"{folder.name}.safetensors", fwd, dict(meta, prompt=TINY_PROMPT))


# A fixed batch of pairs for the masked-loss fixture: prompt and response
# lengths vary, so rows carry different amounts of padding.
MASKED_ROWS = [(3, 4), (6, 1), (2, 7), (5, 3)]
MASKED_T = 13
DEFAULT_TEMPLATE = ROOT / "src" / "finetune" / "default_chat_template.jinja"
# A template in the Hub's style: block tags on their own lines (trim_blocks and
# lstrip_blocks must remove them), a system turn, bos/eos, loop variables, filters.
FEATURE_TEMPLATE = """{{ bos_token }}
{%- for message in messages %}
    {% if message['role'] == 'system' %}
[{{ message['content'] | trim }}]
    {% elif message['role'] == 'user' %}
User {{ loop.index }}: {{ message['content'] }}
    {% elif message['role'] == 'assistant' %}
Bot: {{ message['content'] }}{{ eos_token }}{% if not loop.last %}\n{% endif %}
    {% else %}
{{ raise_exception('unknown role ' ~ message['role']) }}
    {% endif %}
{% endfor %}
{% if add_generation_prompt %}
Bot:{% endif %}"""
CONVERSATIONS = [
    [{"role": "user", "content": "Write a story about Mia."}],
    [{"role": "user", "content": "Write a story about Mia."},
     {"role": "assistant", "content": "Once upon a time, Mia found a red ball."}],
    [{"role": "system", "content": "  Be kind.  "},
     {"role": "user", "content": "héllo ✓ \"quoted\"\n second line"},
     {"role": "assistant", "content": " A reply with a leading space."},
     {"role": "user", "content": "And then?"}],
    [{"role": "user", "content": "{{ not a template }} {% raw %}"},
     {"role": "assistant", "content": "<|endoftext|> inside text"}],
]


def masked_batch(vocab, seed):
    """Rows of prompt, response, end-of-text (id vocab-1), then padding (id 0)."""
    g = torch.Generator().manual_seed(seed)
    eot = vocab - 1
    inputs = torch.zeros((len(MASKED_ROWS), MASKED_T), dtype=torch.int64)
    targets = torch.zeros_like(inputs)
    mask = torch.zeros((len(MASKED_ROWS), MASKED_T), dtype=torch.float64)
    for r, (np_, nr) in enumerate(MASKED_ROWS):
        seq = torch.randint(0, vocab - 1, (np_ + nr,), generator=g).tolist() + [eot]
        assert len(seq) - 1 <= MASKED_T
        for i in range(len(seq) - 1):
            inputs[r, i] = seq[i]
            targets[r, i] = seq[i + 1]
            # Predicting seq[i+1] counts when it is a response token or the end of text.
            mask[r, i] = 1.0 if i + 1 >= np_ else 0.0
    return inputs, targets, mask


def masked_grads_reference(model, vocab, seed):
    """The response-only loss and every parameter's gradient, float64 autograd."""
    model = model.double().train()
    inputs, targets, mask = masked_batch(vocab, seed)
    model.zero_grad()
    logits = model(inputs, use_cache=False).logits
    ce = torch.nn.functional.cross_entropy(logits.reshape(-1, vocab), targets.reshape(-1), reduction="none")
    loss = (ce * mask.reshape(-1)).sum() / mask.sum()
    loss.backward()
    out = {
        "inputs": inputs.numpy().astype(np.int64),
        "targets": targets.numpy().astype(np.int64),
        "mask": mask.numpy().astype(np.float32),
        "loss": np.array([loss.item()], dtype=np.float32),
    }
    for name, p in model.transformer.named_parameters():
        out[f"grad.{name}"] = f32(p.grad)
    model.eval()
    return out


def render_cases():
    """transformers' own apply_chat_template on every template and conversation."""
    from transformers import PreTrainedTokenizerFast

    templates = {"default": DEFAULT_TEMPLATE.read_text(), "feature": FEATURE_TEMPLATE}
    tokens = {"default": ("<|endoftext|>", "<|endoftext|>"), "feature": ("<s>", "</s>")}
    cases = []
    for name, source in templates.items():
        bos, eos = tokens[name]
        tok = PreTrainedTokenizerFast(
            tokenizer_file=str(TINY_MODELS / "tinystories" / "tokenizer.json"),
            bos_token=bos, eos_token=eos, chat_template=source)
        for conv in CONVERSATIONS:
            if name == "default" and any(m["role"] == "system" for m in conv):
                continue
            for gen in (False, True):
                text = tok.apply_chat_template(conv, tokenize=False, add_generation_prompt=gen)
                cases.append({"template": name, "messages": conv, "add_generation_prompt": gen,
                              "bos_token": bos, "eos_token": eos, "rendered": text})
    return {"generator": "scripts/reference.py finetune-fixtures", "templates": templates, "cases": cases}


def distil_grads_reference(model, vocab, seed, alpha=0.3, temperature=2.0):
    """The distillation loss against fixed teacher logits, and every parameter's gradient."""
    model = model.double().train()
    g = torch.Generator().manual_seed(seed)
    inputs = torch.randint(0, vocab, (GRAD_BATCH, GRAD_T), generator=g)
    targets = torch.randint(0, vocab, (GRAD_BATCH, GRAD_T), generator=g)
    # Stored as f32 and used from the stored values, so both sides see the same teacher.
    teacher = (torch.randn(GRAD_BATCH * GRAD_T, vocab, generator=g) * 2.0).float().double()
    model.zero_grad()
    z = model(inputs, use_cache=False).logits.reshape(-1, vocab)
    F = torch.nn.functional
    ce = F.cross_entropy(z, targets.reshape(-1), reduction="none")
    lt = F.log_softmax(teacher / temperature, -1)
    ls = F.log_softmax(z / temperature, -1)
    kl = (lt.exp() * (lt - ls)).sum(-1)
    loss = (alpha * ce + (1 - alpha) * temperature**2 * kl).mean()
    loss.backward()
    out = {
        "inputs": inputs.numpy().astype(np.int64),
        "targets": targets.numpy().astype(np.int64),
        "teacher_logits": f32(teacher),
        "alpha": np.array([alpha], dtype=np.float32),
        "temperature": np.array([temperature], dtype=np.float32),
        "loss": np.array([loss.item()], dtype=np.float32),
        "ce": np.array([ce.mean().item()], dtype=np.float32),
        "kl": np.array([kl.mean().item()], dtype=np.float32),
    }
    for name, p in model.transformer.named_parameters():
        out[f"grad.{name}"] = f32(p.grad)
    model.eval()
    return out


def cmd_distil_fixtures(_args):
    torch.set_num_threads(2)
    meta = {"generator": "scripts/reference.py distil-fixtures", "torch": torch.__version__,
            "precision": "float64, stored f32"}
    name = "random-odd"
    spec = RANDOM_MODELS[name]
    grads = distil_grads_reference(load_model(FIXTURES / name, torch.float64), spec["vocab_size"], spec["seed"] + 11)
    write(FIXTURES / name / "distil-grads.safetensors", grads, meta)


def cmd_finetune_fixtures(_args):
    torch.set_num_threads(2)
    meta = {"generator": "scripts/reference.py finetune-fixtures", "torch": torch.__version__,
            "precision": "float64, stored f32"}
    name = "random-odd"
    spec = RANDOM_MODELS[name]
    # The committed model folder, not a regenerated one: the fixture answers for the file the test loads.
    grads = masked_grads_reference(load_model(FIXTURES / name, torch.float64), spec["vocab_size"], spec["seed"] + 7)
    write(FIXTURES / name / "masked-grads.safetensors", grads, meta)
    path = FIXTURES / "chat-templates.json"
    path.write_text(json.dumps(render_cases(), indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")



# Random Llama models (forward only). Odd on purpose: 9 query heads sharing 3
# key/value heads (3 per group), an intermediate size that is no multiple of
# anything, a rope_theta that is not 10000, an untied head. The second has 6
# query heads over 2 key/value heads and a tied head, and its config.json is
# rewritten to the older top-level `rope_theta` form.
LLAMA_MODELS = {
    "random-llama": dict(num_hidden_layers=3, num_attention_heads=9, num_key_value_heads=3, hidden_size=54,
                         intermediate_size=71, vocab_size=83, max_position_embeddings=29, rope_theta=5000.0,
                         rms_norm_eps=1e-6, tie_word_embeddings=False, seed=777),
    "random-llama-tied": dict(num_hidden_layers=2, num_attention_heads=6, num_key_value_heads=2, hidden_size=60,
                              intermediate_size=55, vocab_size=67, max_position_embeddings=23, rope_theta=321.0,
                              rms_norm_eps=1e-5, tie_word_embeddings=True, seed=778, old_rope_form=True),
}


def llama_config(spec):
    from transformers import LlamaConfig

    kw = {k: v for k, v in spec.items() if k not in ("seed", "rope_theta", "old_rope_form")}
    return LlamaConfig(**kw, hidden_act="silu", attention_bias=False, mlp_bias=False,
                       rope_parameters={"rope_type": "default", "rope_theta": spec["rope_theta"]},
                       bos_token_id=spec["vocab_size"] - 2, eos_token_id=spec["vocab_size"] - 1,
                       architectures=["LlamaForCausalLM"])


def perturbed_llama(spec):
    """A LlamaForCausalLM with every parameter random (RMSNorm gains included),
    scaled so attention is far from uniform and SiLU sees both signs."""
    from transformers import LlamaForCausalLM

    cfg = llama_config(spec)
    torch.manual_seed(spec["seed"])
    model = LlamaForCausalLM(cfg).eval()
    g = torch.Generator().manual_seed(spec["seed"] + 1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=g, dtype=torch.float32)
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.2 * noise)
            elif "embed_tokens" in name or name == "lm_head.weight":
                p.copy_(0.3 * noise)
            else:  # nn.Linear weights are [out, in]
                p.copy_(noise / (p.shape[1] ** 0.5) * 1.2)
    tied = model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
    assert tied == cfg.tie_word_embeddings, "lm_head must be tied exactly when the config says so"
    return model


def llama_forward_reference(model, ids):
    """The float64 forward pass of a LlamaForCausalLM with the stages tests/llama.rs compares.
    (transformers computes RoPE's cos/sin in float32 even in float64 mode.)"""
    model = model.double()
    out = {"input_ids": np.asarray(ids, dtype=np.int64)}
    hooks = []
    layers = model.model.layers
    n_layer = len(layers)

    def block_input(i):
        def hook(_mod, args, kwargs):
            x = args[0] if args else kwargs["hidden_states"]
            out[f"resid.{i}"] = f32(x[0])

        return hook

    def norm_input(key):
        def hook(_mod, args):
            x = args[0][0]
            out[f"{key}.ms"] = f32((x * x).mean(-1))
            if key == "norm_f":
                out[f"resid.{n_layer}"] = f32(x)

        return hook

    def output(key):
        def hook(_mod, _args, y):
            out[key] = f32(y[0])

        return hook

    def input_of(key):
        def hook(_mod, args):
            out[key] = f32(args[0][0])

        return hook

    for i, b in enumerate(layers):
        hooks.append(b.register_forward_pre_hook(block_input(i), with_kwargs=True))
        hooks.append(b.input_layernorm.register_forward_pre_hook(norm_input(f"norm_1.{i}")))
        hooks.append(b.post_attention_layernorm.register_forward_pre_hook(norm_input(f"norm_2.{i}")))
        hooks.append(b.self_attn.q_proj.register_forward_hook(output(f"q_proj.{i}")))
        hooks.append(b.self_attn.k_proj.register_forward_hook(output(f"k_proj.{i}")))
        hooks.append(b.self_attn.v_proj.register_forward_hook(output(f"v_proj.{i}")))
        hooks.append(b.mlp.gate_proj.register_forward_hook(output(f"gate.{i}")))
        hooks.append(b.mlp.up_proj.register_forward_hook(output(f"up.{i}")))
        hooks.append(b.mlp.down_proj.register_forward_pre_hook(input_of(f"mlp_act.{i}")))
    hooks.append(model.model.norm.register_forward_pre_hook(norm_input("norm_f")))
    with torch.no_grad():
        res = model(torch.tensor([ids]), output_attentions=True, use_cache=False)
    for h in hooks:
        h.remove()
    out["logits"] = f32(res.logits[0])
    assert len(res.attentions) == n_layer
    for i, a in enumerate(res.attentions):
        out[f"attn.{i}"] = f32(a[0])
    return out


def cmd_llama_fixtures(_args):
    from transformers import LlamaForCausalLM

    torch.set_num_threads(2)
    meta = {"generator": "scripts/reference.py llama-fixtures", "torch": torch.__version__,
            "transformers": __import__("transformers").__version__, "precision": "float64, stored f32"}
    for name, spec in LLAMA_MODELS.items():
        folder = FIXTURES / name
        folder.mkdir(parents=True, exist_ok=True)
        perturbed_llama(spec).save_pretrained(folder, safe_serialization=True)
        (folder / "generation_config.json").unlink(missing_ok=True)
        if spec.get("old_rope_form"):
            # The pre-5 form many hub configs still have: top-level rope_theta, rope_scaling null.
            cfg_path = folder / "config.json"
            cfg = json.loads(cfg_path.read_text())
            rp = cfg.pop("rope_parameters")
            cfg["rope_theta"] = rp["rope_theta"]
            cfg["rope_scaling"] = None
            cfg_path.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")
        model = LlamaForCausalLM.from_pretrained(folder, attn_implementation="eager").eval()
        got = model.model.rotary_emb.inv_freq[1].item()
        d = spec["hidden_size"] // spec["num_attention_heads"]
        assert abs(got - spec["rope_theta"] ** (-2 / d)) < 1e-6, "config.json's rope_theta was not read back"
        ids = fixed_prompt(spec["vocab_size"], spec["seed"])
        write(folder / "reference.safetensors", llama_forward_reference(model, ids), meta)
LORA_RANK, LORA_ALPHA = 3, 6.0
LORA_MATRICES = ("attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj")


def cmd_lora_fixtures(_args):
    """LoRA's gradients: the base frozen, W = W0 + s·A·B (Conv1D layout, A [in, r],
    B [r, out]) on the four projections of each block, through functional_call."""
    from torch.func import functional_call

    torch.set_num_threads(2)
    name = "random-odd"
    spec = RANDOM_MODELS[name]
    model = load_model(FIXTURES / name, torch.float64)
    vocab, scale = spec["vocab_size"], LORA_ALPHA / LORA_RANK
    inputs, targets, mask = masked_batch(vocab, spec["seed"] + 7)
    g = torch.Generator().manual_seed(spec["seed"] + 11)
    params = {k: v.detach() for k, v in model.named_parameters()}
    adapters, out = {}, {}
    for layer in range(spec["n_layer"]):
        for m in LORA_MATRICES:
            key = f"h.{layer}.{m}.weight"
            w0 = params[f"transformer.{key}"]
            n_in, n_out = w0.shape
            # Drawn in float32 so that gptlens reads exactly these values.
            a = (torch.rand((n_in, LORA_RANK), generator=g, dtype=torch.float32) * 2 - 1) / n_in ** 0.5
            b = (torch.rand((LORA_RANK, n_out), generator=g, dtype=torch.float32) * 2 - 1) * 0.05
            a, b = a.double().requires_grad_(), b.double().requires_grad_()
            adapters[key] = (a, b)
            out[f"lora.{key}.A"], out[f"lora.{key}.B"] = f32(a), f32(b)
    merged = dict(params)
    for key, (a, b) in adapters.items():
        merged[f"transformer.{key}"] = params[f"transformer.{key}"] + scale * (a @ b)
    logits = functional_call(model, merged, (inputs,), {"use_cache": False}).logits
    ce = torch.nn.functional.cross_entropy(logits.reshape(-1, vocab), targets.reshape(-1), reduction="none")
    loss = (ce * mask.reshape(-1)).sum() / mask.sum()
    loss.backward()
    for key, (a, b) in adapters.items():
        out[f"grad.lora.{key}.A"], out[f"grad.lora.{key}.B"] = f32(a.grad), f32(b.grad)
    out["inputs"] = inputs.numpy().astype(np.int64)
    out["targets"] = targets.numpy().astype(np.int64)
    out["mask"] = mask.numpy().astype(np.float32)
    out["loss"] = np.array([loss.item()], dtype=np.float32)
    out["rank_alpha"] = np.array([LORA_RANK, LORA_ALPHA], dtype=np.float32)
    meta = {"generator": "scripts/reference.py lora-fixtures", "torch": torch.__version__,
            "precision": "float64, stored f32", "lora": f"rank {LORA_RANK}, alpha {LORA_ALPHA}"}
    write(FIXTURES / name / "lora-grads.safetensors", out, meta)



SMOLLM2_GGUF = Path.home() / ".cache" / "gptlens" / "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_QUESTION = "What is the capital of France?"
SMOLLM2_GREEDY = 20


def cmd_smollm2_fixture(args):
    """transformers on the real SmolLM2 GGUF (it dequantizes the file to f32, as
    gptlens does): the chat-templated question's ids, the last position's
    top-k logits, two full logit rows and the greedy continuation, in float64."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(2)
    path = Path(args.gguf)
    if not path.is_file():
        sys.exit(f"error: {path} does not exist; scripts/fetch-smollm2.sh fetches it")
    tok = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype=torch.float32).eval()
    model = model.double()
    text = tok.apply_chat_template([{"role": "user", "content": SMOLLM2_QUESTION}], tokenize=False,
                                   add_generation_prompt=True)
    ids = tok(text, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logits = model(torch.tensor([ids]), use_cache=False).logits[0]
        greedy = model.generate(torch.tensor([ids]), max_new_tokens=SMOLLM2_GREEDY, do_sample=False,
                                min_new_tokens=SMOLLM2_GREEDY, eos_token_id=None, pad_token_id=tok.eos_token_id)
    new = greedy[0, len(ids):].tolist()
    last = logits[-1]
    top = torch.topk(last, 20)
    rows = [0, len(ids) // 2, len(ids) - 1]
    out = {
        "input_ids": np.asarray(ids, dtype=np.int64),
        "top_ids": top.indices.numpy().astype(np.int64),
        "top_logits": f32(top.values),
        "row_positions": np.asarray(rows, dtype=np.int64),
        "rows": f32(logits[rows]),
        "greedy": np.asarray(new, dtype=np.int64),
    }
    meta = {"generator": "scripts/reference.py smollm2-fixture", "torch": torch.__version__,
            "transformers": __import__("transformers").__version__, "file": path.name,
            "precision": "float64 of the dequantized f32 weights, stored f32"}
    write(FIXTURES / "smollm2" / "reference.safetensors", out, meta)
    (FIXTURES / "smollm2" / "prompt.txt").write_text(text)
    print(f"prompt {len(ids)} tokens; greedy: {tok.decode(new)!r}")


def cmd_bench_decode(args):
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    model = load_model(args.model, torch.float32)
    load_ms = (time.perf_counter() - t0) * 1e3
    ids = open_tokenizer(args.model).encode(args.prompt, add_special_tokens=False).ids
    n = min(args.tokens, model.config.n_positions - len(ids))
    prefill, decode = [], []
    with torch.inference_mode():
        for _ in range(max(1, args.repeat)):
            t = time.perf_counter()
            res = model(torch.tensor([ids]), use_cache=True)
            prefill.append((time.perf_counter() - t) * 1e3)
            past, logits = res.past_key_values, res.logits[:, -1, :]
            t = time.perf_counter()
            for _ in range(n):  # exactly n tokens, not stopping at end-of-text
                nxt = logits.argmax(-1, keepdim=True)
                res = model(nxt, past_key_values=past, use_cache=True)
                past, logits = res.past_key_values, res.logits[:, -1, :]
            decode.append(n / (time.perf_counter() - t))
    cfg = model.config
    result = {
        "engine": f"pytorch {torch.__version__} transformers GPT2LMHeadModel fp32",
        "model": str(args.model),
        "n_layer": cfg.n_layer,
        "n_head": cfg.n_head,
        "n_embd": cfg.n_embd,
        "vocab_size": cfg.vocab_size,
        "params": sum(p.numel() for p in model.transformer.parameters()),
        "threads": torch.get_num_threads(),
        "load_ms": load_ms,
        "prompt_tokens": len(ids),
        "decode_tokens": n,
        "prefill_ms": statistics.median(prefill),
        "decode_tokens_per_s": statistics.median(decode),
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"pytorch decode {result['decode_tokens_per_s']:.1f} tokens/s, prefill {result['prefill_ms']:.2f} ms "
              f"({n} tokens, {result['threads']} threads, {args.model})")


def cmd_bench_train(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = gpt2_config(args.layers, args.heads, args.embd, args.vocab, args.ctx, None)
    model = GPT2LMHeadModel(cfg).train()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.1)
    data = torch.randint(0, args.vocab, (args.steps + args.warmup, args.batch, args.ctx + 1))

    def step(batch):
        x, y = batch[:, :-1], batch[:, 1:]
        logits = model(x, use_cache=False).logits
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, args.vocab), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()

    for i in range(args.warmup):
        step(data[i])
    t = time.perf_counter()
    for i in range(args.steps):
        loss = step(data[args.warmup + i])
    secs = time.perf_counter() - t
    tokens = args.steps * args.batch * args.ctx
    result = {
        "engine": f"pytorch {torch.__version__} transformers GPT2LMHeadModel fp32 AdamW",
        "n_layer": args.layers,
        "n_head": args.heads,
        "n_embd": args.embd,
        "vocab_size": args.vocab,
        "ctx": args.ctx,
        "batch": args.batch,
        "steps": args.steps,
        "params": sum(p.numel() for p in model.transformer.parameters()),
        "threads": torch.get_num_threads(),
        "step_ms": secs / args.steps * 1e3,
        "train_tokens_per_s": tokens / secs,
        "last_loss": loss,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"pytorch training {result['train_tokens_per_s']:.0f} tokens/s ({result['step_ms']:.0f} ms/step, "
              f"batch {args.batch} x {args.ctx}, {result['threads']} threads)")


def cmd_eval(args):
    """Validation loss of a model folder with transformers, on the same token
    stream as `gptlens train` (documents split at <|endoftext|> lines, each
    followed by the end-of-text token) in non-overlapping windows of --ctx."""
    torch.set_num_threads(args.threads)
    tok = open_tokenizer(args.model)
    eot = tok.token_to_id("<|endoftext|>")
    text = Path(args.text).read_text(encoding="utf-8")
    if args.chars:
        text = text[:args.chars]  # as `gptlens eval --chars N`
    docs = [d.strip("\n") for d in text.split("<|endoftext|>")]
    stream = []
    for d in docs:
        if d.strip():
            stream += tok.encode(d).ids + [eot]
    model = load_model(args.model, torch.float32)
    t = args.ctx
    windows = (len(stream) - 1) // t
    if args.batch_multiple:
        windows -= windows % args.batch_multiple
    total, n = 0.0, 0
    with torch.no_grad():
        for w0 in range(0, windows, 16):
            ws = range(w0, min(w0 + 16, windows))
            x = torch.tensor([stream[w * t:w * t + t] for w in ws])
            y = torch.tensor([stream[w * t + 1:w * t + t + 1] for w in ws])
            logits = model(x).logits.to(torch.float64)
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="sum")
            total += loss.item()
            n += y.numel()
    nats = total / n
    result = {"windows": windows, "tokens": n, "stream_tokens": len(stream), "bytes": len(text.encode("utf-8")),
              "loss": nats, "perplexity": math.exp(nats)}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"transformers: {nats:.4f} nats/token (perplexity {math.exp(nats):.2f}) over {windows} windows of {t} "
              f"({n} predicted tokens; stream {len(stream)} tokens)")


GGUF_FIXTURES = FIXTURES / "gguf"


def gguf_fixture_tensors():
    """Seeded f32 data for each runnable ggml type; rows of 64 (two blocks),
    with blocks made to hit the quantizers' edge cases: exact halves for
    Q8_0's rounding, a positive and a negative largest magnitude for Q4_0's
    signed scale, a constant block (zero scale), a tie in magnitude, and
    values where Q4_0's fused rounding matters."""
    rng = np.random.default_rng(2024)
    base = rng.standard_normal((6, 64)).astype(np.float32)
    base[0, :32] = np.arange(32, dtype=np.float32) - 16.0   # max 16: d = 16/127
    base[1, :32] = 0.0
    base[1, 0], base[1, 1], base[1, 2], base[1, 3] = 127.0, 2.5, -2.5, 3.5  # d = 1: exact halves
    base[2, 32:] = 0.75                                     # constant block
    base[3, :32] *= 0.01
    base[3, 7], base[3, 9] = 1.5, -1.5                      # tie in magnitude: first one wins
    base[4, 32:] = np.abs(base[4, 32:])                     # positive max for Q4_0
    # Q4_0 with d = 3 (max -24): x·(1/d) + 8.5 lands next to an integer, where
    # one rounding (ggml's C with fused multiply-adds) and two roundings (the
    # released gguf package, numpy in float32) disagree.
    base[5, :32] *= 3.0
    base[5, :6] = [-24.0, -22.5, -19.5, -1.5000007152557373, 7.499998092651367, 10.499998092651367]
    return {
        "t.f32": (rng.standard_normal((3, 7)).astype(np.float32), "F32"),
        "t.f16": (rng.standard_normal((2, 3, 5)).astype(np.float32), "F16"),
        "t.q8_0": (base.copy(), "Q8_0"),
        "t.q4_0": (base.copy(), "Q4_0"),
        "t.q4_1": (base.copy(), "Q4_1"),
        "t.vec": (rng.standard_normal(96).astype(np.float32), "Q8_0"),
    }


def cmd_gguf_fixtures(_args):
    """A GGUF written by the `gguf` Python package (llama.cpp's own): every
    metadata value type, arrays (strings, numbers, nested), alignment 64, and
    tensors of every type gptlens runs, quantized by gguf.quants; beside it the
    f32 source and gguf's dequantized values, and the metadata as JSON."""
    import gguf
    from gguf import GGUFValueType as T

    GGUF_FIXTURES.mkdir(parents=True, exist_ok=True)
    path = GGUF_FIXTURES / "python.gguf"
    w = gguf.GGUFWriter(str(path), "gptlens-test")
    w.add_custom_alignment(64)
    meta = [
        ("test.u8", T.UINT8, 200), ("test.i8", T.INT8, -100), ("test.u16", T.UINT16, 60000),
        ("test.i16", T.INT16, -30000), ("test.u32", T.UINT32, 4000000000), ("test.i32", T.INT32, -2000000000),
        ("test.f32", T.FLOAT32, float(np.float32(0.1))), ("test.bool", T.BOOL, True),
        ("test.string", T.STRING, "héllo ✓"), ("test.u64", T.UINT64, 2**63 + 5), ("test.i64", T.INT64, -(2**62)),
        ("test.f64", T.FLOAT64, 0.1),
    ]
    for key, ty, val in meta:
        w.add_key_value(key, val, ty)
    arrays = [
        ("test.strings", T.STRING, ["a", "", "Ġthe", "<|endoftext|>"]),
        ("test.i32s", T.INT32, [1, -2, 3]),
        ("test.f32s", T.FLOAT32, [float(np.float32(x)) for x in (0.5, -1.25, 3.0)]),
        ("test.nested", T.ARRAY, [[1, 2], [3]]),
    ]
    for key, sub, val in arrays:
        w.add_key_value(key, val, T.ARRAY, sub_type=sub)
    expected = {"metadata": [[k, ty.name, v] for k, ty, v in meta]
                + [[k, "ARRAY", {"type": sub.name, "values": v}] for k, sub, v in arrays],
                "alignment": 64, "tensors": []}
    tensors = {}
    for name, (data, tname) in gguf_fixture_tensors().items():
        qtype = gguf.GGMLQuantizationType[tname]
        raw = gguf.quants.quantize(data, qtype)
        w.add_tensor(name, raw, raw_shape=list(data.shape) if qtype in (qtype.F32, qtype.F16) else None,
                     raw_dtype=qtype)
        tensors[f"source.{name}"] = data
        tensors[f"dequant.{name}"] = gguf.quants.dequantize(raw, qtype).astype(np.float32).reshape(data.shape)
        expected["tensors"].append({"name": name, "type": tname, "shape": list(data.shape)})
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    save_file(tensors, str(GGUF_FIXTURES / "python-values.safetensors"))
    (GGUF_FIXTURES / "python.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {path} ({path.stat().st_size} bytes) and its expected values")


def cmd_gguf_logits(args):
    """transformers opens GGUF files gptlens wrote (`gguf_file=`, dequantized to
    float32 by transformers itself) and runs TINY_PROMPT through them in
    float64, its own GGUF tokenizer included; tests/gguf.rs compares gptlens's
    logits on the same files. transformers maps gpt2.context_length to n_ctx
    only, so the config is loaded first and n_positions set from it."""
    from transformers import AutoConfig, AutoTokenizer

    GGUF_FIXTURES.mkdir(parents=True, exist_ok=True)
    for f in args.gguf:
        f = Path(f).resolve()
        cfg = AutoConfig.from_pretrained(str(f.parent), gguf_file=f.name)
        cfg.n_positions = cfg.n_ctx
        model = GPT2LMHeadModel.from_pretrained(str(f.parent), gguf_file=f.name, config=cfg).eval()
        tok = AutoTokenizer.from_pretrained(str(f.parent), gguf_file=f.name)
        ids = tok(TINY_PROMPT)["input_ids"]
        with torch.no_grad():
            logits = model.double()(torch.tensor([ids])).logits[0]
        out = GGUF_FIXTURES / f"{f.stem}.logits.safetensors"
        save_file({"input_ids": np.array(ids, dtype=np.int64), "logits": f32(logits)}, str(out))
        print(f"wrote {out}: {len(ids)} tokens, vocab {logits.shape[1]}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("fixtures", help="write tests/fixtures/")
    sub.add_parser("finetune-fixtures", help="write the masked-loss and chat-template fixtures")
    sub.add_parser("gguf-fixtures", help="write tests/fixtures/gguf/ with the gguf package (pip install gguf)")
    g = sub.add_parser("gguf-logits", help="transformers' logits on GGUF files gptlens wrote (pip install gguf accelerate)")
    g.add_argument("gguf", nargs="+", help="FILE.gguf written by `gptlens quantize`")
    sub.add_parser("llama-fixtures", help="write the random Llama fixtures (tests/fixtures/random-llama*)")
    sm = sub.add_parser("smollm2-fixture", help="transformers on the SmolLM2 GGUF (pip install gguf accelerate)")
    sm.add_argument("--gguf", default=str(SMOLLM2_GGUF), help="the file scripts/fetch-smollm2.sh fetched")
    sub.add_parser("lora-fixtures", help="write the LoRA gradient fixture (random-odd only)")
    sub.add_parser("distil-fixtures", help="write the distillation gradient fixture (random-odd only)")
    tm = sub.add_parser("tiny-model-fixture", help="write tests/fixtures/tiny-models/NAME.safetensors only")
    tm.add_argument("name", help="a folder of tiny-models/")
    d = sub.add_parser("bench-decode", help="PyTorch decode speed for a model folder")
    d.add_argument("--model", required=True, help="model folder (config.json, model.safetensors, tokenizer.json)")
    d.add_argument("--tokens", type=int, default=64)
    d.add_argument("--repeat", type=int, default=3, help="report the median of this many runs")
    d.add_argument("--prompt", default=BENCH_PROMPT)
    d.add_argument("--threads", type=int, default=2)
    d.add_argument("--json", action="store_true")
    t = sub.add_parser("bench-train", help="PyTorch training throughput on random tokens")
    t.add_argument("--layers", type=int, default=4)
    t.add_argument("--heads", type=int, default=4)
    t.add_argument("--embd", type=int, default=128)
    t.add_argument("--vocab", type=int, default=2048)
    t.add_argument("--ctx", type=int, default=256)
    t.add_argument("--batch", type=int, default=16)
    t.add_argument("--steps", type=int, default=10)
    t.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--json", action="store_true")
    e = sub.add_parser("eval", help="validation loss of a model folder with transformers")
    e.add_argument("--model", required=True)
    e.add_argument("--text", required=True, help="validation text (stories separated by <|endoftext|> lines)")
    e.add_argument("--ctx", type=int, default=256)
    e.add_argument("--chars", type=int, default=0, help="only the first N characters of the text (0: all)")
    e.add_argument("--batch-multiple", type=int, default=16,
                   help="drop the windows past the last whole batch of this many, as gptlens does (0: keep all)")
    e.add_argument("--threads", type=int, default=2)
    e.add_argument("--json", action="store_true")
    args = p.parse_args()
    if args.cmd in ("bench-decode", "eval") and not (Path(args.model) / "config.json").is_file():
        sys.exit(f"error: {args.model} has no config.json; a model folder holds config.json, model.safetensors and tokenizer.json")
    {"fixtures": cmd_fixtures, "finetune-fixtures": cmd_finetune_fixtures, "gguf-fixtures": cmd_gguf_fixtures, "gguf-logits": cmd_gguf_logits,
     "llama-fixtures": cmd_llama_fixtures, "smollm2-fixture": cmd_smollm2_fixture,
     "lora-fixtures": cmd_lora_fixtures, "distil-fixtures": cmd_distil_fixtures,
     "tiny-model-fixture": cmd_tiny_model_fixture,
     "bench-decode": cmd_bench_decode, "bench-train": cmd_bench_train,
     "eval": cmd_eval}[args.cmd](args)


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
