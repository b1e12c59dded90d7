"""Writes tests/fixtures/random-odd/: a small GPT-2 with odd sizes and jittered
weights (config.json, model.safetensors) and grads.safetensors, the loss and the
gradient of every parameter computed by PyTorch autograd in float64 for a fixed
batch (mean cross-entropy over all B*T positions), stored as f32.

Run: /work/refvenv/bin/python scripts/grad_fixture.py
"""
import json
import pathlib

import torch
from safetensors.torch import save_file
from transformers import GPT2Config, GPT2LMHeadModel

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests/fixtures/random-odd"
N_LAYER, N_HEAD, N_EMBD, VOCAB, N_POS = 2, 3, 18, 37, 11
B, T = 3, 9


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(20261123)
    cfg = GPT2Config(n_layer=N_LAYER, n_head=N_HEAD, n_embd=N_EMBD, vocab_size=VOCAB,
                     n_positions=N_POS, n_ctx=N_POS, resid_pdrop=0.0, embd_pdrop=0.0,
                     attn_pdrop=0.0, activation_function="gelu_new",
                     layer_norm_epsilon=1e-5, tie_word_embeddings=True)
    model = GPT2LMHeadModel(cfg)
    model.config._attn_implementation = "eager"
    # Weights ~ N(0, 0.1) (larger than GPT-2's 0.02 so attention is not uniform),
    # LayerNorm gains near 1 and every bias non-zero, so each term is exercised.
    named = {}
    with torch.no_grad():
        for name, p in model.transformer.named_parameters():
            if name.endswith("ln_1.weight") or name.endswith("ln_2.weight") or name == "ln_f.weight":
                v = 1.0 + 0.1 * torch.randn(p.shape, generator=g)
            elif p.dim() == 2:
                v = 0.1 * torch.randn(p.shape, generator=g)
            else:
                v = 0.05 * torch.randn(p.shape, generator=g)
            v = v.float()
            p.copy_(v)
            named[name] = v.contiguous()
    save_file(named, str(OUT / "model.safetensors"), metadata={"format": "pt"})
    (OUT / "config.json").write_text(json.dumps({
        "model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "n_layer": N_LAYER,
        "n_head": N_HEAD, "n_embd": N_EMBD, "vocab_size": VOCAB, "n_positions": N_POS,
        "n_ctx": N_POS, "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new",
        "n_inner": None, "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0,
        "tie_word_embeddings": True}, indent=2) + "\n")

    ids = torch.randint(0, VOCAB, (B, T + 1), generator=g)
    inputs, targets = ids[:, :T].contiguous(), ids[:, 1:].contiguous()
    model = model.double()
    model.eval()
    logits = model(input_ids=inputs).logits
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, VOCAB), targets.reshape(-1))
    loss.backward()
    out = {"inputs": inputs, "targets": targets, "loss": loss.detach().float().reshape(1)}
    for name, p in model.transformer.named_parameters():
        out["grad." + name] = p.grad.float().contiguous()
    save_file(out, str(OUT / "grads.safetensors"))
    print(f"loss {loss.item():.8f}; wrote {OUT}")


if __name__ == "__main__":
    main()
