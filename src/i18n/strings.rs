//! The interface's strings, each once, in every language. A string is a
//! [`Msg`]; the table below gives its English and its Chinese side by side,
//! so one cannot be added without the other (the match is exhaustive), and a
//! test checks that neither side is empty and that both take the same `{}`.
//!
//! Formatting: a string with `{}` slots is filled by [`Msg::fill`], in order.

use super::Lang;

macro_rules! strings {
    ($( $(#[$doc:meta])* $name:ident => $en:expr, $zh:expr; )*) => {
        /// One interface string (see the table for its text).
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Msg {
            $( $(#[$doc])* $name, )*
        }

        impl Msg {
            /// Every string, for tests and tools.
            pub const ALL: &'static [Msg] = &[ $( Msg::$name, )* ];

            /// The string in `lang`.
            pub fn get(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $(
                        (Msg::$name, Lang::En) => $en,
                        (Msg::$name, Lang::Zh) => $zh,
                    )*
                }
            }
        }
    };
}

strings! {
    // `lesson --print` (lesson::render::markdown).
    /// Before a predict block's question.
    PrintPredict => "**Predict:**", "**先猜一猜：**";
    /// Before the model's answer.
    PrintAnswer => "**The model's answer:**", "**模型的答案：**";
    /// After the answer: which choice it was.
    PrintChoice => " (choice **{}**)", "（选项 **{}**）";

    // The step caption (lesson::render::scene_caption).
    CaptionView => "view: {}", "视图：{}";
    CaptionStage => "stage: {}", "阶段：{}";
    CaptionLayer => "layer {}", "第 {} 层";
    CaptionHead => "head {}", "第 {} 个头";
    CaptionPosition => "position {} {}", "位置 {} {}";
    CaptionKey => "key {} {}", "键 {} {}";

    // `gptlens lessons` and `gptlens lesson`.
    /// The line after the list of lessons.
    ListFooter => "Open one with `gptlens lesson NAME` (add --print for a handout).",
        "用 `gptlens lesson 名称` 打开一课（加 --print 输出讲义）。";
    /// Marks a lesson listed in English because it has no translation yet.
    ListUntranslatedMark => "", "（英文）";
    /// The line naming the lessons that have no translation yet.
    ListUntranslated => "", "尚未翻译、以英文显示的课程：{}";
    /// On stderr when a lesson is shown in English for want of a translation.
    FallbackNote => "", "提示：课程 `{}` 还没有中文版，下面显示英文版。";

    // The lesson player's own text (tui::player::draw), in the lesson's language.
    /// The progress in the panel title and the lesson bar.
    PlayerStep => "step {}/{}", "第 {}/{} 步";
    /// The title of what stands in for the hidden explorer.
    PlayerHiddenTitle => "predict first", "先猜一猜";
    /// The note in its place; the slot is the choice keys.
    PlayerHidden => "The view is hidden until you answer the question: it would give the answer away. Press {} to answer, or = to see the answer.",
        "回答问题之前先不显示视图，因为它会泄露答案。按 {} 作答，或按 = 直接看答案。";
    PlayerNoSteps => "This lesson has no steps.", "这一课没有步骤。";
    PlayerCannotShow => "This step cannot be shown: {}", "这一步无法显示：{}";
    PlayerFree => "You are exploring freely; the text describes the step's selection. r returns to it.",
        "你正在自由探索；文字讲的仍是这一步原来的选择。按 r 回到这一步。";
    /// Before a question.
    PlayerPredict => "Predict: {}", "先猜一猜：{}";
    PlayerMarkModel => "  ← the model's choice", "  ← 模型的选择";
    PlayerMarkYours => "  ← your answer", "  ← 你的答案";
    PlayerPress => "Press {} to answer (= shows the answer without guessing).",
        "按 {} 作答（按 = 不猜，直接看答案）。";
    PlayerRight => "Right ({}).", "答对了（{}）。";
    PlayerNotQuite => "Not quite: you chose {}, the model's choice is {}.",
        "不太对：你选了 {}，模型的选择是 {}。";
    PlayerNoneMatched => "You chose {}; the model's pick is none of the choices.",
        "你选了 {}；模型的选择不在这些选项里。";
    PlayerYouChose => "You chose {}.", "你选了 {}。";
    PlayerModelsChoice => "The model's choice is {}.", "模型的选择是 {}。";
    PlayerAnswer => "The model's answer: {}", "模型的答案：{}";

    // The header's stage captions (pass::Stage::title_in reads these): GPT-2's.
    StageEmbed => "embed: x = wte[token] + wpe[position]", "嵌入：x = wte[词元] + wpe[位置]";
    StageLn1 => "LN1: normalise the residual before attention", "LN1：进入注意力之前，先对残差流做层归一化";
    StageQkv => "Q, K, V = LN1(x)·W_qkv + b", "查询、键、值：Q、K、V = LN1(x)·W_qkv + b";
    StageScores => "scores = Q·Kᵀ/√dₖ", "注意力分数 = Q·Kᵀ/√dₖ";
    StageMask => "causal mask: a query sees only earlier keys", "因果掩码：每个查询只能看到它之前的键";
    StageSoftmax => "softmax over each query's row", "对每个查询的那一行做 softmax";
    StageWeightedSum => "weighted sum: softmax(QKᵀ/√dₖ)·V", "加权求和：softmax(QKᵀ/√dₖ)·V";
    StageOutProj => "output projection: concat(heads)·W_O", "输出投影：concat(各头)·W_O";
    StageResid1 => "residual add: x + attn", "残差相加：x + attn";
    StageLn2 => "LN2: normalise before the MLP", "LN2：进入前馈网络之前做层归一化";
    StageMlpUp => "MLP up: h = LN2(x)·W_fc + b (4× wider)", "前馈网络升维：h = LN2(x)·W_fc + b（宽 4 倍）";
    StageGelu => "GELU(h)", "激活函数 GELU(h)";
    StageMlpDown => "MLP down: GELU(h)·W_proj + b", "前馈网络降维：GELU(h)·W_proj + b";
    StageResid2 => "residual add: x + mlp", "残差相加：x + mlp";
    StageFinalLn => "final LayerNorm", "最后一次层归一化（LayerNorm）";
    StageLogits => "logits = LN_f(x)·wteᵀ (tied unembedding)", "logits = LN_f(x)·wteᵀ（输出层与嵌入共用权重）";
    StagePick => "pick: temperature, top-k, top-p, draw", "选词：温度、top-k、top-p，然后抽样";
    StageAppend => "append the picked token", "把选中的词元接到末尾";
    // What a Llama block (RMSNorm, RoPE, SwiGLU, no biases) or an untied head does instead.
    StageLlamaEmbed => "embed: x = wte[token] (no position table: RoPE)", "嵌入：x = wte[词元]（没有位置表，位置由 RoPE 给出）";
    StageLlamaLn1 => "RMSNorm before attention: x/√(mean(x²) + ε)·γ", "进入注意力之前的 RMSNorm：x/√(mean(x²) + ε)·γ";
    StageLlamaQkv => "Q, K, V = RMSNorm(x)·Wᵀ; RoPE turns Q and K", "Q、K、V = RMSNorm(x)·Wᵀ；RoPE 旋转 Q 和 K";
    StageLlamaOutProj => "output projection: concat(heads)·W_O (no bias)", "输出投影：concat(各头)·W_O（没有偏置）";
    StageLlamaLn2 => "RMSNorm before the MLP", "进入前馈网络之前的 RMSNorm";
    StageLlamaMlpUp => "MLP: gate = x·W_gateᵀ, up = x·W_upᵀ", "前馈网络：gate = x·W_gateᵀ，up = x·W_upᵀ";
    StageLlamaGelu => "SwiGLU: SiLU(gate) ⊙ up", "SwiGLU 激活：SiLU(gate) ⊙ up";
    StageLlamaMlpDown => "MLP down: (SiLU(gate) ⊙ up)·W_downᵀ", "前馈网络降维：(SiLU(gate) ⊙ up)·W_downᵀ";
    StageLlamaFinalLn => "final RMSNorm", "最后一次 RMSNorm";
    StageLlamaLogitsTied => "logits = RMSNorm_f(x)·wteᵀ (tied unembedding)", "logits = RMSNorm_f(x)·wteᵀ（输出层与嵌入共用权重）";
    StageLlamaLogits => "logits = RMSNorm_f(x)·lm_headᵀ (untied head)", "logits = RMSNorm_f(x)·lm_headᵀ（独立的输出头）";
    StageLogitsUntied => "logits = LN_f(x)·lm_headᵀ (untied head)", "logits = LN_f(x)·lm_headᵀ（独立的输出头）";

    // The explorer's frame (tui::draw).
    /// The views' names in the hint bar (the CLI's names stay English).
    ViewTokens => "tokens", "词元";
    ViewEmbeddings => "embeddings", "嵌入";
    ViewAttention => "attention", "注意力";
    ViewLayerNorm => "layernorm", "层归一化";
    ViewMlp => "mlp", "前馈网络";
    ViewResidual => "residual", "残差流";
    ViewLogits => "logits", "对数几率";
    ViewLoss => "loss", "损失";
    ViewCost => "cost", "成本";
    ViewTraining => "training", "训练";
    ViewQuant => "quant", "量化";
    /// The header: layer i of n, head, how many tokens.
    HeaderLayer => "layer {}/{} · ", "第 {}/{} 层 · ";
    HeaderHead => "head {}", "第 {} 个头";
    HeaderTokens => "{} tokens", "{} 个词元";
    /// What the header says for the views about the whole step.
    CaptionLoss => "loss: −ln P(next token) at each position", "损失：每个位置上的 −ln P(下一个词元)";
    CaptionCost => "cost: FLOPs, bytes, parameters of the step", "成本：这一步的 FLOPs、字节数和参数量";
    CaptionTraining => "training: this model's loss curve", "训练：这个模型的损失曲线";
    CaptionQuant => "quant: a block of weights, 3 formats", "量化：一块权重，三种格式";
    /// While the engine works.
    Working => "working", "计算中";
    Computing => "computing", "正在计算";
    BusyNextToken => "computing the next token", "正在计算下一个词元";
    BusyNewPrompt => "running the new prompt", "正在运行新的提示";
    BusyKeys => "{}… keys you press now are kept and applied when it is done.",
        "{}……现在按下的键会先记下来，算完后再执行。";
    /// The loading frame.
    Loading => "loading {}", "正在加载 {}";
    LoadingWhat => "reading the weights and running the prompt…", "正在读取权重并运行提示……";
    /// The screen under the smallest size.
    TooSmall => "terminal too small: need {}×{}", "终端太小：至少需要 {}×{}";
    TooSmallNow => "now {}×{}", "现在是 {}×{}";
    TooSmallFix => "enlarge the window; q quits", "请把窗口放大；按 q 退出";
    /// The interventions banner.
    IvAblated => "head L{}H{} ablated", "L{}H{} 头已被消融";
    IvNoScale => "no ÷√dₖ", "不除以 √dₖ";
    IvNoMask => "no causal mask", "去掉因果掩码";
    IvNoLayerNorm => "LayerNorm skipped", "跳过层归一化";
    IvRecomputing => " (recomputing…)", "（重新计算中……）";
    IvBanner => " INTERVENTION: {}{} · numbers below are changed; c clears ",
        " 干预：{}{} · 下面的数字已被改变；按 c 清除 ";
    /// The prompt editor line.
    EditorLabel => "prompt: ", "提示：";
    EditorHelp => "  enter runs it · esc cancels", "  enter 运行 · esc 取消";

    // Hint-bar words (keymap::Hint::word).
    HintHelp => "help", "帮助";
    HintQuit => "quit", "退出";
    HintStage => "stage", "阶段";
    HintBack => "back", "后退";
    HintSubLayer => "sub-layer", "子层";
    HintToken => "token", "词元";
    HintLayer => "layer", "层";
    HintHead => "head", "头";
    HintView => "view", "视图";
    HintZoom => "zoom", "放大";
    HintPrompt => "prompt", "提示";
    HintPresent => "present", "演示";
    HintLessons => "lessons", "课程";
    HintChoose => "choose", "选择";
    HintOpen => "open", "打开";
    HintClose => "close", "关闭";
    HintStep => "step", "换步";
    HintScroll => "scroll", "滚动";
    HintReturn => "return", "复原";
    HintText => "text", "文字";
    HintKeys => "keys", "按键";
    HintNext => "next", "下一步";
    HintNextLesson => "next lesson", "下一课";
    HintTrainLive => "train live", "现场训练";

    // The help overlay (tui::draw::help_overlay) and its rows (keymap::Row::help).
    HelpTitle => "keys (any key closes)", "按键（按任意键关闭）";
    HelpMoreRows => "↓ {} more rows (↑ ↓ scroll)", "↓ 下面还有 {} 行（↑ ↓ 滚动）";
    HelpEarlierRows => "↑ earlier rows (↑ scrolls back)", "↑ 上面还有（按 ↑ 往回滚）";
    HelpSectionKeys => "keys", "按键";
    HelpSectionLesson => "lesson keys", "课程的按键";
    HelpSectionExplorer => "explorer keys", "探索器的按键";
    KeyHelp => "this help (↑ ↓ scroll it; any other key closes it)", "这份帮助（↑ ↓ 滚动；按其他任意键关闭）";
    KeyQuit => "quit", "退出";
    KeyNextStage => "next stage (past \"append\": the next token)", "下一个阶段（过了“append”就是下一个词元）";
    KeyPrevStage => "previous stage (before \"embed\": take the token back)", "上一个阶段（在“embed”之前：撤回这个词元）";
    KeySubLayer => "next / previous sub-layer: skips the stages the same view draws", "下一个 / 上一个子层：跳过同一视图画的那些阶段";
    KeyToken => "next token / take the last token back", "下一个词元 / 撤回最后一个词元";
    KeyLayer => "previous / next layer", "上一层 / 下一层";
    KeyHead => "previous / next head (quant view: weight matrix)", "上一个头 / 下一个头（量化视图：换权重矩阵）";
    KeyPosition => "select the previous / next position (query)", "选择上一个 / 下一个位置（查询）";
    KeySelect => "select within the view: key, dim, neuron, candidate, stage, block (loss: position)",
        "在视图内选择：键、维度、神经元、候选词元、阶段、块（损失视图：位置）";
    KeyView => "next / previous view, or view by number", "下一个 / 上一个视图，或按数字选视图";
    KeyZoom => "zoom: one head in attention, no side panels elsewhere / back",
        "放大：注意力视图只看一个头，其他视图去掉侧栏 / 返回";
    KeyTemperature => "temperature down / up (0 = greedy)", "温度降低 / 升高（0 = 贪心解码）";
    KeyTopK => "top-k down / up", "top-k 减小 / 增大";
    KeyTopP => "top-p down / up", "top-p 减小 / 增大";
    KeyBeam => "beam search tree on / off", "束搜索树：打开 / 关闭";
    KeyAblate => "ablate the selected head (toggle)", "消融选中的头（再按一次恢复）";
    KeyInterventions => "drop √dₖ / drop the causal mask / skip LayerNorm", "去掉 √dₖ / 去掉因果掩码 / 跳过层归一化";
    KeyClear => "clear every intervention", "清除所有干预";
    KeyPalette => "next palette / write the screen to gptlens-screen-N.svg", "换一种配色 / 把屏幕写入 gptlens-screen-N.svg";
    KeyPresent => "presenter mode on / off: large cells and a formula card", "演示模式开 / 关：放大的格子和公式卡片";
    KeyEdit => "edit the prompt (enter re-runs it, esc cancels)", "编辑提示（enter 重新运行，esc 取消）";
    KeyLessons => "the lessons: open one (on this model) without quitting", "课程列表：不用退出就能（在这个模型上）打开一课";
    KeyMouse => "click a token, a head or a cell to select it", "点击词元、头或格子来选中它";
    KeyScene => "next / previous lesson step", "课程的下一步 / 上一步";
    KeyScroll => "scroll the lesson text (or the mouse wheel on it)", "滚动课文（也可以在课文上用鼠标滚轮）";
    KeyReturn => "back to the step's selection, prompt, no interventions", "回到这一步原来的选择和提示，去掉干预";
    KeyText => "lesson text full screen / beside the view (short screens: the text or the view)",
        "课文全屏 / 放在视图旁边（屏幕矮时：只显示课文或只显示视图）";
    KeyAnswer => "answer the open question / just show the answer", "回答当前的问题 / 直接显示答案";
    KeyTrainLive => "on a step that offers it: train the classroom model live, then back here",
        "在提供这一操作的步骤上：现场训练课堂模型，结束后回到这里";
    KeyPickerChoose => "choose a lesson", "选择一课";
    KeyPickerOpen => "open it", "打开它";
    KeyPickerClose => "close the list", "关闭列表";

    // The lesson list (tui::player::shell) and the player's messages.
    PickerTitle => "lessons: open one", "课程：选一课打开";
    PickerTitleModel => "lessons: open one on this model", "课程：选一课，在这个模型上打开";
    CannotOpenLesson => "could not open the lesson {}: {}", "无法打开课程 {}：{}";
    /// The scroll markers of the lesson text.
    MoreBelow => "more ↓", "下面还有 ↓";
    MoreBoth => "↑ more ↓", "↑ 还有 ↓";
    LastStepNext => "the last step · {} again: the next lesson, {} · {}: every lesson",
        "最后一步 · 再按 {}：下一课 {} · {}：所有课程";
    LastStep => "the last step: PgUp goes back, q quits", "最后一步：按 PgUp 后退，按 q 退出";
    FirstStep => "the first step: PgDn goes on", "第一步：按 PgDn 继续";

    // Status-line messages (tui::app, tui::run).
    StatusNoTokenizer => "prompt editing needs the model's tokenizer", "编辑提示需要模型的分词器";
    StatusCannotEncode => "cannot encode the prompt: {}", "无法把提示编码成词元：{}";
    StatusEmptyPrompt => "the prompt is empty: type some text, or esc to cancel", "提示是空的：请输入文字，或按 esc 取消";
    StatusPromptTooLong => "refused: the prompt is {} tokens, the model's context is {}; shorten it",
        "已拒绝：提示有 {} 个词元，模型的上下文只有 {} 个；请缩短";
    StatusNothingBack => "at the prompt: nothing to take back", "已经在提示处：没有可以撤回的词元";
    StatusStepFailed => "step failed: {}", "这一步失败了：{}";
    StatusIvFailed => "intervention failed: {}", "干预失败：{}";
    StatusPromptFailed => "the new prompt failed: {}", "新提示运行失败：{}";
    StatusBeamFailed => "beam search failed: {}", "束搜索失败：{}";
    StatusScreenWritten => "screen written to {}", "屏幕已写入 {}";
    StatusScreenFailed => "could not write the screen: {}", "无法写出屏幕：{}";
    /// The classroom run a lesson step started (tui::live::classroom) ended well.
    StatusClassroomDone => "classroom run in {} (--model opens it): {}", "课堂训练的结果在 {}（用 --model 打开）：{}";
    StatusClassroomFailed => "the classroom run failed ({}): {} · its log: {}", "课堂训练失败（{}）：{} · 日志：{}";
    StatusClassroomNoStart => "the classroom run could not start: {}", "课堂训练无法启动：{}";
    StatusClassroomTooSmall => "the terminal is {}×{}; the live training screen needs at least {}×{}",
        "终端只有 {}×{}；现场训练的画面至少需要 {}×{}";
    StatusClassroomNoMessages => "no messages", "没有输出信息";

    // Panel titles of the views (tui::views::*).
    TitleTokens => "tokens: position, id, text, bytes", "词元：位置、编号、文字、字节";
    TitleBpe => "byte-level BPE", "字节级 BPE";
    TitleBpeNeedsTokenizer => "merging step by step needs the model's tokenizer", "逐步合并需要模型的分词器";
    TitleEmbeddings => "embeddings: rows = positions, columns = dims", "嵌入：行 = 位置，列 = 维度";
    TitlePositionNumbers => "position {} numbers", "位置 {} 的数值";
    TitleNearest => "nearest tokens (cosine of wte rows)", "最相近的词元（wte 各行的余弦相似度）";
    TitleProjection => "wte in 2-D (first two principal components)", "wte 的二维投影（前两个主成分）";
    TitleCell => "the selected cell, step by step", "选中的格子，一步一步算";
    TitleAttnGrid => "layer {} · {}", "第 {} 层 · {}";
    TitleScoresMasked => "scores masked: later keys −∞", "掩码后的分数：后面的键为 −∞";
    TitleScores => "scores q·k/√dₖ", "分数 q·k/√dₖ";
    TitleWeights => "weights softmax", "权重 softmax";
    TitleQkv => "layer {} head {} · Q, K, V (rows = positions, columns = dₖ dims)",
        "第 {} 层 第 {} 个头 · Q、K、V（行 = 位置，列 = dₖ 个维度）";
    TitleQkvRope => "layer {} head {} · Q and K after RoPE, V (rows = positions, columns = dₖ dims)",
        "第 {} 层 第 {} 个头 · RoPE 之后的 Q 和 K，以及 V（行 = 位置，列 = dₖ 个维度）";
    TitleOutProj => "layer {} · output projection (rows = positions)", "第 {} 层 · 输出投影（行 = 位置）";
    TitleZoomed => "layer {} head {} (enter: back to all heads)", "第 {} 层 第 {} 个头（enter：回到所有头）";
    TitleLedger => "FLOPs by stage (the ledger) · position {} {}", "各阶段的 FLOPs（账本）· 位置 {} {}";
    TitleAttnShare => "attention's share grows with context", "上下文越长，注意力所占的比例越大";
    TitleParameters => "parameters", "参数";
    TitleBytes => "bytes, and the same at GPT-3", "字节数，以及换成 GPT-3 时的同一项";
    TitleRmsNorm => "{}: y = x/√(mean(x²) + ε)·γ (no mean, no β)", "{}：y = x/√(mean(x²) + ε)·γ（不减均值，没有 β）";
    TitleFormula => "the formula, filled in", "代入数字的公式";
    TitleLayerNorm => "{}: y = (x − μ)/√(σ² + ε)·γ + β", "{}：y = (x − μ)/√(σ² + ε)·γ + β";
    /// Which norm the layernorm view shows.
    NormLn1 => "LN1 of layer {}", "第 {} 层的 LN1";
    NormLn2 => "LN2 of layer {}", "第 {} 层的 LN2";
    NormFinal => "final LayerNorm ln_f", "最后一次层归一化 ln_f";
    NormRms1 => "RMSNorm before attention, layer {}", "第 {} 层注意力之前的 RMSNorm";
    NormRms2 => "RMSNorm before the MLP, layer {}", "第 {} 层前馈网络之前的 RMSNorm";
    TitleLogits => "next token · temperature {} (t/T) · top-k {} (k/K) · top-p {} (p/P)",
        "下一个词元 · 温度 {} (t/T) · top-k {} (k/K) · top-p {} (p/P)";
    TitleGreedy => "0 = greedy", "0 = 贪心";
    TitleOff => "off", "关";
    TitleBeam => "beam search (width 3, 4 tokens)", "束搜索（宽度 3，4 个词元）";
    TitleSearching => "searching…", "搜索中……";
    TitleLoss => "loss: −ln P(the token that came next), the text on screen as given",
        "损失：−ln P(实际出现的下一个词元)，按屏幕上的文字计算";
    TitleSelectedPosition => "the selected position", "选中的位置";
    TitleMlp => "MLP of layer {} at position {} · {} · {} neurons (4×{})",
        "第 {} 层的前馈网络 · 位置 {} · {} · {} 个神经元（4×{}）";
    TitleMlpUp => "up-projection h = LN2(x)·W_fc + b", "升维投影 h = LN2(x)·W_fc + b";
    TitleMlpDown => "down-projection GELU(h)·W_proj + b", "降维投影 GELU(h)·W_proj + b";
    TitleSwiGlu => "MLP of layer {} at position {} · SwiGLU: {} · {} neurons, three matrices ({}→{}→{})",
        "第 {} 层的前馈网络 · 位置 {} · SwiGLU：{} · {} 个神经元，三个矩阵（{}→{}→{}）";
    TitleSwiGluDown => "down-projection (SiLU(gate) ⊙ up)·W_downᵀ", "降维投影 (SiLU(gate) ⊙ up)·W_downᵀ";
    TitleSwiGluUp => "gate = x·W_gateᵀ and up = x·W_upᵀ", "gate = x·W_gateᵀ，up = x·W_upᵀ";
    TitleResidual => "residual stream ‖x‖: rows = after each step, columns = positions",
        "残差流 ‖x‖：行 = 每一步之后，列 = 位置";
    TitleLens => "logit lens: ln_f(x)·wteᵀ at each layer", "logit lens：每一层的 ln_f(x)·wteᵀ";
    TitleTrainingRecord => "training record", "训练记录";
    TitleTrainingCurve => "loss per token against optimizer step", "每个词元的损失随优化步数的变化";
    TitleTheRun => "the run", "这次训练";
    TitleCard => "the formula, live", "公式（实时数字）";
    TitleQuant => "quantization", "量化";
    TitleQuantFormats => "every format on this model", "这个模型上的每种格式";

    // `train --live` (tui::live): its keys, header, panels and messages.
    LiveKeyPause => "pause / resume training", "暂停 / 继续训练";
    LiveKeyCheckpoint => "write a checkpoint now", "现在写一个检查点";
    LiveKeyNextHead => "next head", "下一个头";
    LiveKeyPrevHead => "previous head", "上一个头";
    LiveKeyNextLayer => "next layer", "下一层";
    LiveKeyPrevLayer => "previous layer", "上一层";
    LiveKeyQuit => "quit (writes a checkpoint; --resume goes on)", "退出（会写一个检查点；用 --resume 接着训练）";
    LivePaused => "PAUSED", "已暂停";
    LiveStep => "step {}/{} ({}%)", "第 {}/{} 步（{}%）";
    LiveLoss => "loss {}", "损失 {}";
    LiveVal => "val {}", "验证 {}";
    LiveEta => "ETA {}", "预计还要 {}";
    LiveStarting => "starting…", "正在开始……";
    LivePreparing => "preparing the data…", "正在准备数据……";
    LiveLossTitle => "loss", "损失";
    LiveTrain => "train", "训练";
    LiveValidation => "validation", "验证";
    LiveUniform => "uniform ln {}", "均匀分布 ln {}";
    LiveUnigram => "unigram", "一元模型";
    LiveBigram => "bigram", "二元模型";
    LiveNoCurve => "the curve starts with the first step", "第一步之后才有曲线";
    LiveNats => "nats/token", "奈特/词元";
    LiveAttention => "attention L{} H{}", "注意力 L{} H{}";
    LiveNoSnapshot => "the first snapshot of the weights comes within a second", "一秒之内会拿到第一份权重快照";
    LiveAttentionAt => "attention L{} H{} · step {} · prev {}", "注意力 L{} H{} · 第 {} 步 · 前一词元 {}";
    LiveInd => " · ind {}", " · 归纳 {}";
    LiveHeadCurves => "L{} H{} over training: previous-token, induction", "L{} H{} 在训练中：前一词元分数、归纳分数";
    LiveNoScores => "scores come with the first snapshot", "拿到第一份快照后才有分数";
    LivePrevToken => "previous-token", "前一词元";
    LiveInduction => "induction", "归纳";
    LiveScore => "score", "分数";
    LiveEveryHead => "every head now (≥ .40 bold)", "此刻的每个头（≥ .40 加粗）";
    LiveProbeAt => "probe → greedy continuation at step {}", "探针 → 第 {} 步的贪心续写";
    LiveProbe => "probe", "探针";
    LiveStatusPaused => "paused", "已暂停";
    LiveStatusResumed => "resumed", "已继续";
    LiveStatusCheckpoint => "writing a checkpoint after this step", "这一步之后写一个检查点";
    LiveStatusStopping => "stopping: writing the checkpoint…", "正在停止：写检查点……";

    // `gptlens export --lesson` and the HTML handout (`lesson --print --format html`).
    ExportLessonTitle => "gptlens lesson {}, step {}", "gptlens 课程 {}，第 {} 步";
    HandoutTitle => "gptlens lesson {}", "gptlens 课程 {}";
    HandoutStep => "step {}", "第 {} 步";
    HandoutCaption => "Step {}: the explorer as this step sets it up", "第 {} 步：这一步设置好的探索器画面";

    // View bodies of the forward pass (tui::views::{embeddings,attention,layernorm,mlp,residual,logits,mod}):
    // row labels, axis notes, the arithmetic lines.
    // Attention (views::attention).
    AttnAxes => "rows: query, cols: key (enter: zoom) · {} marks query {} key {}",
        "行：查询，列：键，enter 放大 · {} = 查询 {}、键 {}";
    AttnReversed => "reversed", "反色";
    AttnBlankLater => "blank: later keys (the mask hides them next)", "空白：后面的键，将被遮住";
    AttnMaskedInf => "'{}' = −∞: later keys are masked", "'{}' = −∞：后面的键被遮住";
    AttnMaskedZero => "'{}' = later key, masked (weight 0)", "'{}' = 后面的键，权重 0";
    AttnAblatedMark => " ablated", " 已消融";
    AttnRope => "RoPE, position {}: pair i = dims (i, i + {}) turns by θᵢ = {}·{}^(−2i/{})",
        "RoPE，位置 {}：第 i 对 = 维度 (i, i + {})，转过 θᵢ = {}·{}^(−2i/{})";
    AttnRopePair => "pair {} (dims {}, {}): θ = {}·{} = {} rad", "第 {} 对（维度 {}、{}）：θ = {}·{} = {} 弧度";
    AttnMultiHead => "{} query heads, each with its own keys and values (multi-head)",
        "{} 个查询头，每个头有自己的键和值（多头注意力）";
    AttnGqa => "GQA: {} query heads share {} key/value heads; H{} reads kv head {}, with H{} to H{}",
        "分组查询注意力 GQA：{} 个查询头共用 {} 个键/值头；H{} 读取 kv 头 {}，H{} 到 H{} 共用它";
    AttnConcat => "concat(heads): {} heads × dₖ {} side by side", "concat(各头)：{} 个头 × dₖ {}，并排拼在一起";
    AttnOutBias => "attn = concat(heads)·W_O + b", "attn = concat(各头)·W_O + b";
    AttnOutNoBias => "attn = concat(heads)·W_O (no bias)", "attn = concat(各头)·W_O（没有偏置）";
    AttnZoomAxes => "query ↓ key → ", "↓查询 →键 ";
    AttnZoomCell => "query {} {} · key {} {}", "查询 {} {}，键 {} {}";
    /// The arithmetic panel: its first two lines (the key's lines up under the query's).
    AttnCellQuery => "L{} H{}  query {} ", "L{} H{}  查询 {} ";
    AttnCellKey => "          key {} ", "         键 {} ";
    AttnAfterRope => "q, k after RoPE: the score sees the distance {} − {} = {}",
        "q、k 已经过 RoPE 旋转：分数看到的是两者的距离 {} − {} = {}";
    AttnDot => "q·k = Σ q_d·k_d over dₖ = {} dims:", "q·k = Σ q_d·k_d，对 dₖ = {} 维求和：";
    AttnMore => " + … ({} more)", " + …（还有 {} 项）";
    AttnNoScale => "÷ √dₖ dropped (intervention): score = q·k", "去掉了 ÷ √dₖ（干预）：分数 = q·k";
    AttnScore => "score s = {}", "分数 s = {}";
    AttnScoreDiv => "score s = {} ÷ {} = {}", "分数 s = {} ÷ {} = {}";
    AttnMaskOff => "causal mask off: later keys included", "因果掩码已关闭：后面的键也算在内";
    AttnMaskLast => "mask: no later keys exist yet (last position)", "掩码：后面还没有键（这是最后一个位置）";
    AttnMaskHidden => "mask: keys {} to {} are hidden (score −∞)", "掩码：键 {} 到 {} 被遮住（分数 −∞）";
    AttnRowMax => "row max m = {}", "这一行的最大值 m = {}";
    AttnExpMax => "exp(s − m) = exp(0) = 1 (this key holds the max)", "exp(s − m) = exp(0) = 1（就是最大值）";
    AttnRowSum => "Σ over the row of exp(s − m) = {}", "整行 exp(s − m) 之和 Σ = {}";
    /// The engine's own value beside a number redone from the printed operands.
    EngineValue => "(engine: {})", "（引擎算出：{}）";
    AttnAblated => "head ablated (intervention): its output is zeroed before W_O",
        "这个头已被消融（干预）：它的输出在乘 W_O 之前置零";
    AttnWeightedSum => "out = Σ_k p_k · v_k (first dims):", "out = Σ_k p_k · v_k（前几维）：";
    AttnWithout => "without interventions: p = {} (now {})", "不加干预时：p = {}（现在是 {}）";
    // LayerNorm and RMSNorm (views::layernorm).
    LnColPos => "pos", "位置";
    /// A column of tokens (the layernorm and logits views).
    ColToken => "token", "词元";
    LnColMean => "mean μ", "均值 μ";
    LnColVar => "var σ²", "方差 σ²";
    LnBefore => "before: x (the residual stream)", "归一化之前：x（残差流）";
    LnAfter => "after: y", "归一化之后：y";
    LnGammaBeta => "γ (top) and β (bottom)", "γ（上）和 β（下）";
    LnGammaOnly => "γ (RMSNorm has no β)", "γ（RMSNorm 没有 β）";
    LnAt => "position {} {}, dim {} (↑↓)", "位置 {} {}，维度 {}（↑↓）";
    LnSkipped => "LayerNorm skipped (intervention): y = x", "跳过了层归一化（干预）：y = x";
    LnPreLn => "GPT-2 normalises before each block (pre-LN); the original Transformer after.",
        "GPT-2 在每个子层之前做归一化（pre-LN）；最初的 Transformer 放在之后。";
    RmsSkipped => "RMSNorm skipped (intervention): y = x", "跳过了 RMSNorm（干预）：y = x";
    RmsNote => "RMSNorm (Llama): no mean subtracted, no β — one statistic, cheaper than LayerNorm.",
        "RMSNorm（Llama）：不减均值，也没有 β——只算一个统计量，比 LayerNorm 省。";
    // Embeddings (views::embeddings).
    EmbTokenRow => "wte[token] (token {})", "wte[词元]（词元 {}）";
    EmbPositionRow => "wpe[position] (position {})", "wpe[位置]（位置 {}）";
    EmbSum => "x = wte + wpe (enters layer 0)", "x = wte + wpe（送入第 0 层）";
    EmbSumRope => "x = wte[token] (enters layer 0)", "x = wte[词元]（送入第 0 层）";
    EmbColumns => "dim  wte + wpe = x", "维度 wte + wpe = x";
    EmbColumnsRope => "dim  wte = x (no wpe: RoPE, in attention)", "维度 wte = x（没有 wpe：RoPE 在注意力里）";
    EmbNoTable => "no position table (no wpe): nothing is added here", "没有位置表（没有 wpe）：这里什么也不加";
    EmbRope => "position {} enters in every attention layer instead: RoPE turns each pair (i, i + {}) of q and k by θᵢ = {}·{}^(−2i/{}),",
        "位置 {} 改在每个注意力层里进入：RoPE 把 q 和 k 的每一对维度 (i, i + {}) 转过 θᵢ = {}·{}^(−2i/{})，";
    EmbRopeAngles => "here θ₀ = {} … θ{} = {} radians, so q·k depends on how far apart two tokens are (attention view, stage qkv)",
        "这里 θ₀ = {} … θ{} = {} 弧度，所以 q·k 取决于两个词元相隔多远（见注意力视图的 qkv 阶段）";
    // The MLP (views::mlp): GELU's and SwiGLU's.
    MlpBeforeGelu => "before GELU: h", "GELU 之前：h";
    MlpAfterGelu => "after GELU: GELU(h)", "GELU 之后：GELU(h)";
    MlpGeluCurve => "GELU(x) = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) on −4 to 4; o = this position's neurons",
        "GELU(x) = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))，x 从 −4 到 4；o = 这个位置的神经元";
    MlpSwiGluPost => "SiLU(gate) ⊙ up (what W_down reads)", "SiLU(gate) ⊙ up（W_down 读的就是它）";
    MlpSiluCurve => "SiLU(x) = x/(1 + e^(−x)) on −4 to 4; o = this position's gates",
        "SiLU(x) = x/(1 + e^(−x))，x 从 −4 到 4；o = 这个位置的 gate";
    MlpMaxBin => "{} (max bin {})", "{}，最高的柱 {} 个";
    MlpMostActive => "most active neurons: h → GELU(h)", "最活跃的神经元：h → GELU(h)";
    MlpOutput => "MLP output (first dims):", "前馈网络的输出（前几维）：";
    MlpColNeuron => "neuron", "神经元";
    MlpColProduct => "product", "乘积";
    MlpNeuron => "neuron #{} (↑↓):", "神经元 #{}（↑↓）：";
    MlpRecomputed => "(recomputed: {})", "（重新算出：{}）";
    // The residual stream and the logit lens (views::residual).
    ResEmbed => "embed", "嵌入";
    ResAt => "‖x‖ at position {}:", "位置 {} 的 ‖x‖：";
    ResWithout => "without interventions: {}", "不加干预时：{}";
    ResLensAt => "position {} {} — top tokens:", "位置 {} {}——概率最高的词元：";
    ResAfter => "after L{}", "L{} 之后";
    ResLastRow => "The last row is the model's own prediction.", "最后一行就是模型自己的预测。";
    // The logits (views::logits).
    LogitTied => "logits = {}(x)·wteᵀ: tied, the embedding table [{}×{}] read backwards",
        "logits = {}(x)·wteᵀ：与嵌入共用权重，把嵌入表 [{}×{}] 反过来用";
    LogitUntied => "logits = {}(x)·lm_headᵀ: untied, its own [{}×{}] matrix, not wte",
        "logits = {}(x)·lm_headᵀ：不与嵌入共用，用自己的 [{}×{}] 矩阵，不是 wte";
    LogitTop => "{} · top logit {} recomputed {} (engine {})", "{} · 最大的对数几率 {} 重新算出 {}（引擎 {}）";
    LogitGreedy => "greedy: the most likely token", "贪心：取概率最大的词元";
    LogitDrew => "drew u = {} from the kept tokens", "在保留的词元里抽样，u = {}";
    LogitSampled => "sampled", "抽样";
    LogitPick => "pick: ", "选中：";
    LogitPickInfo => " ({}) · entropy {} nats · {} tokens kept, mass {}", "（{}）· 熵 {} 奈特 · 保留 {} 个词元，概率和 {}";
    LogitColRank => "rank", "名次";
    LogitColId => "id", "编号";
    LogitColLogit => "logit", "对数几率";
    LogitColKept => "kept p", "保留 p";
    LogitColAlt => "   p with interventions", "   干预后的 p";
    LogitPicked => " ◀ pick", " ◀ 选中";
    LogitCut => " ✂ cut by top-k/top-p", " ✂ 被 top-k/top-p 截掉";
    LogitBest => "best (score {}): {}", "最好的一束（得分 {}）：{}";
    // Heatmap legends (tui::heatmap): what the gradient shows.
    ScaleGlyphsSigned => "{} below 0, {} above", "{} 小于 0，{} 大于 0";
    ScaleGlyphs => "sparse to dense glyphs", "由疏到密的字符";
    ScaleDiverging => "blue−white−red, 0 white", "蓝−白−红，0 为白";
    ScaleBasic => "blue−cyan−white", "蓝−青−白";
    ScaleGray => "gray", "灰度";
    // (end of the forward-pass view bodies)

    // View bodies of the other views (tui::views::{tokens,loss,cost,training,quant}).
    // The tokens view: the table's columns, how each token came, the BPE panel.
    TokColPos => "pos", "位置";
    TokColId => "id", "编号";
    TokColToken => "token", "词元";
    TokColBytes => "bytes / how", "字节 / 来历";
    TokHowPrompt => "prompt", "提示";
    TokHowPicked => "picked, p={}{}", "采样选中，p={}{}";
    TokHowGreedy => " (greedy)", "（贪心）";
    TokHowGenerated => "generated", "生成";
    TokCount => "{} tokens ({} prompt) · vocabulary {}", "共 {} 个词元（提示占 {} 个）· 词表 {}";
    BpeSpecial => "a special token: added whole, not built by merges",
        "特殊词元：整个加进词表，不是合并出来的";
    BpeTitle => "BPE: «{}», {} bytes, {} merges (lowest rank first)",
        "BPE：«{}»，{} 个字节，合并 {} 次（排名靠前的先合并）";
    BpeTitleOne => "BPE: «{}», {} bytes, {} merge (lowest rank first)",
        "BPE：«{}»，{} 个字节，合并 {} 次（排名靠前的先合并）";
    BpeBytes => "bytes", "字节";
    BpeRank => "rank {}: {} + {}", "排名 {}：{} + {}";
    BpeMore => "… {} more merges", "…… 中间还有 {} 次合并";
    BpeTokens => "{} = tokens", "{} = 词元";

    // The loss view: the summary lines, the table's columns, the arithmetic.
    LossMean => "mean loss ", "平均损失 ";
    LossNats => "{} nats", "{} 奈特";
    LossOver => " over {} predictions · perplexity exp(mean) {}", "，共 {} 次预测 · 困惑度 exp(平均) {}";
    LossUniform => "a uniform guess over the {} tokens: ln V = {} nats, perplexity V",
        "在 {} 个词元里均匀乱猜：ln V = {} 奈特，困惑度为 V";
    LossWithout => "without interventions: mean loss {} · perplexity {}",
        "不加干预时：平均损失 {} · 困惑度 {}";
    LossOneToken => "one token: nothing to score yet (n generates the next one)",
        "只有一个词元：还没有预测可以打分（按 n 生成下一个）";
    LossReplyOnly => "fine-tuning counts only the reply: mean {} nats over its {} predictions; the template's prompt (tokens 0–{}, grey) carries no loss",
        "微调只计回复的损失：平均 {} 奈特，共 {} 次预测；模板里的提示部分（词元 0–{}，灰色）不计损失";
    LossColPos => "pos", "位置";
    LossColToken => "token", "词元";
    LossColNext => "next", "下一个";
    LossColP => "P(next)", "P(下一个)";
    LossColBar => "bar (| = ln V)", "长条（| = ln V）";
    LossNotGiven => "(not given yet: the logits view shows what comes next)",
        "（还没有给出：下一个是什么，看对数几率视图）";
    LossLastNoNext => "position {}: the last token has no next token to score (its logits are the prediction: logits view); select an earlier position with h or ↑.",
        "位置 {}：最后一个词元后面还没有词元，没有什么可打分（它的 logits 就是预测，见对数几率视图）；用 h 或 ↑ 选前面的位置。";
    LossCompact1 => "position {} {} → {}: logit {}, logsumexp {}", "位置 {} {} → {}：logit {}，logsumexp {}";
    LossCompact2 => "p = exp({} − {}) = {} · −ln p = {} nats", "p = exp({} − {}) = {} · −ln p = {} 奈特";
    LossPosition => "position {} {} → {}", "位置 {} {} → {}";
    LossLogitOf => "logit of {}: {}", "{} 的 logit：{}";
    LossLseOfRow => "logsumexp of the row: {}", "这一行的 logsumexp：{}";
    LossMinusLn => "−ln p = {} nats", "−ln p = {} 奈特";
    LossLseSum => "logsumexp = max + ln Σ exp(logit − max) = {} + {} over {} logits",
        "logsumexp = max + ln Σ exp(logit − max) = {} + {}，对 {} 个 logits 求和";
    LossRanked => "the actual next token ranked {}; the model's top guess was {} (p {})",
        "实际的下一个词元排第 {} 名；模型最看好的是 {}（p {}）";
    LossNote => "A sure, right guess costs 0 nats; p = 1/V (a uniform guess) costs ln V. The mean over positions is the cross-entropy training lowers; exp(mean) is the perplexity.",
        "有把握又猜对了，损失是 0 奈特；p = 1/V（均匀乱猜）的损失是 ln V。各位置损失的平均值就是训练要降低的交叉熵；exp(平均值) 就是困惑度。";

    // The cost view: the ledger's lines and columns, its stage names (each
    // English side is the ledger's own name, cost::Ledger's rows), the side panels.
    CostToken => "token {}: ", "词元 {}：";
    CostOnePass => " · tokens 0–{} in one pass: {} FLOPs", " · 词元 0–{} 一次算完：{} FLOPs";
    CostReadLine => "weights read {} · KV cache {} · {} params · {} FLOP/byte",
        "读取权重 {} · KV 缓存 {} · {} 个参数 · {} FLOP/字节";
    CostColStage => "stage (all layers)", "阶段（所有层合计）";
    CostColMulAdd => "mul-add", "乘加";
    CostColShare => "share", "占比";
    CostColBar => "bar (longest = top stage)", "长条（最长 = 最大的阶段）";
    CostEmbedToken => "embedding (token only)", "嵌入（只有词元）";
    CostEmbedTokenPos => "embedding (token + position)", "嵌入（词元 + 位置）";
    CostLn1 => "LayerNorm 1", "层归一化 1";
    CostLn2 => "LayerNorm 2", "层归一化 2";
    CostQkvGrouped => "Q, K, V (grouped K, V)", "Q、K、V（K、V 分组共享）";
    CostQkv => "Q, K, V projection", "Q、K、V 投影";
    CostScores => "scores q·k", "分数 q·k";
    CostSoftmax => "scale and softmax", "缩放与 softmax";
    CostWeightedSum => "weighted sum of V", "V 的加权和";
    CostOutProj => "output projection W_O", "输出投影 W_O";
    CostRopeResidual => "RoPE and residual adds", "RoPE 与残差加法";
    CostBiasResidual => "bias and residual adds", "偏置与残差加法";
    CostMlpGateUp => "MLP gate and up (C → 2·M)", "前馈网络 gate 与 up（C → 2·M）";
    CostMlpUp => "MLP up (C → M)", "前馈网络升维（C → M）";
    CostMlpDown => "MLP down (M → C)", "前馈网络降维（M → C）";
    CostFinalLn => "final LayerNorm", "最后的层归一化";
    CostFinalRms => "final RMSNorm", "最后的 RMSNorm";
    CostUnembed => "unembedding (logits)", "反嵌入（logits）";
    CostElementwiseRest => "elementwise (LN, softmax…)", "逐元素运算（LN、softmax……）";
    CostTotal => "total", "合计";
    CostLayersTimes => " = {} layers × {}", " = {} 层 × {}";
    CostHowMatmul => "matrix product, 2 FLOPs per multiply-add", "矩阵乘法，每次乘加算 2 FLOPs";
    CostHowElementwise => "elementwise", "逐元素运算";
    CostDetail => "{}: {} FLOPs{} ({}); reads {} of weights", "{}：{} FLOPs{}（{}）；读取 {} 的权重";
    CostByPart => "by part", "按部分";
    CostThisToken => "this token / tokens 0–{}", "这个词元 / 词元 0–{}";
    CostGroupEmbedding => "embedding", "嵌入";
    CostGroupAttention => "attention", "注意力";
    CostGroupMlp => "mlp", "前馈网络";
    CostGroupNorm => "norm", "归一化与加法";
    CostRule => "Rule of thumb: 2 FLOPs per weight per token, 2N = 2 × {} = {} FLOPs (N: parameters outside the embedding tables).",
        "经验法则：每个词元、每个权重 2 FLOPs，2N = 2 × {} = {} FLOPs（N：嵌入表以外的参数个数）。";
    CostLedgerCounts => "The ledger counts {} for this token: it adds the unembedding ({}) and attention over the context ({}).",
        "账本给这个词元记的是 {}：它还算上了反嵌入（{}）和对上下文的注意力（{}）。";
    CostShareByContext => "QKᵀ+AV share by context:", "QKᵀ+AV 随上下文长度的占比：";
    CostShareShort => "QKᵀ+AV share:", "QKᵀ+AV 占比：";
    CostOneTokenAttending => "one token attending to ctx tokens: QKᵀ + AV of all FLOPs",
        "一个词元关注 ctx 个词元时，QKᵀ + AV 占全部 FLOPs 的比例";
    CostMatricesSame => "The matrices cost the same at any context; QKᵀ and AV grow with it.",
        "矩阵乘法的成本与上下文长度无关；QKᵀ 和 AV 随上下文变长而增加。";
    CostParamsEmbedding => "embedding tables (wte, wpe)", "嵌入表（wte、wpe）";
    CostParamsAttention => "attention (W_qkv, W_O, biases)", "注意力（W_qkv、W_O、偏置）";
    CostParamsMlp => "MLP (W_fc, W_proj, biases)", "前馈网络（W_fc、W_proj、偏置）";
    CostParamsNorms => "LayerNorms (γ, β)", "层归一化（γ、β）";
    CostWeightsRead => "weights read for this token: {}", "这个词元读取的权重：{}";
    CostKvHeld => "KV cache held: {} ({} per token, {} at ctx {})",
        "KV 缓存占用：{}（每个词元 {}，上下文满时 {}，即 ctx {}）";
    CostPerByte => "{} FLOPs per byte read: at batch 1 every weight is read for one multiply-add, so memory, not arithmetic, sets the pace.",
        "每读一个字节只做 {} FLOPs：批大小为 1 时，每个权重读进来只用于一次乘加，所以快慢取决于内存，而不是算力。";
    CostGpt3 => "GPT-3 shape (preset gpt3: {} layers × {} wide) at context {}: {} FLOPs per token, QKᵀ+AV {}; at its full context {}: {}.",
        "换成 GPT-3 的形状（预设 gpt3：{} 层 × {} 宽），上下文为 {} 时：每个词元 {} FLOPs，QKᵀ+AV 占 {}；上下文满 {} 时占 {}。";

    // The quant view: the block's title and lines, its table, the formats panel
    // (the matrices' English descriptions are readout::quant's).
    QuantWhatQ => "query projection W_Q", "查询投影 W_Q";
    QuantWhatK => "key projection W_K", "键投影 W_K";
    QuantWhatV => "value projection W_V", "值投影 W_V";
    QuantWhatGate => "MLP gate", "前馈网络 gate";
    QuantWhatUp => "MLP up", "前馈网络升维";
    QuantWhatDown => "MLP down", "前馈网络降维";
    QuantWhatTiedTable => "token embedding (and the unembedding)", "词元嵌入（也用作反嵌入）";
    QuantWhatTable => "token embedding", "词元嵌入";
    QuantWhatHead => "unembedding (untied head)", "反嵌入（不共享权重的输出头）";
    QuantBlockAt => "block {} of {} · output {}, inputs {}–{}", "第 {} 块（共 {} 块）· 输出 {}，输入 {}–{}";
    QuantLayer => " · layer {}", " · 第 {} 层";
    QuantStoredF32 => "stored F32", "以 F32 存储";
    QuantStoredFile => "stored {} (the file's values)", "以 {} 存储（文件里的值）";
    QuantKeys => "{} layer · {} matrix {} of {} · {} block", "{} 层 · {} 矩阵 {}/{} · {} 块";
    QuantFileNoError => " · the file's own block has no error: its weights before quantizing are not in the file",
        " · 文件自带的块算不出误差：量化之前的权重不在文件里";
    QuantBitsPerToken => "bits/weight  {} per token", "比特/权重  每个词元 {}";
    QuantScale => "scale {}", "缩放因子 {}";
    QuantFiles => "{} (file's)", "{}（文件自带）";
    QuantErrors => "error rms/max {}", "误差 rms/max {}";
    QuantPerToken => "per token {}", "每个词元 {}";
    QuantColWeight => "weight w", "权重 w";
    QuantColError => "error", "误差";
    QuantRmsError => "RMS error", "RMS 误差";
    QuantMaxError => "max |error|", "最大 |误差|";
    QuantColFormat => "format", "格式";
    QuantColBits => "bits", "比特";
    QuantColBytes => "bytes / token", "字节 / 词元";
    QuantNote1 => "Decoding one token reads every weight once,", "解码一个词元要把每个权重读一遍，";
    QuantNote2 => "so a decoder limited by memory bandwidth", "所以受内存带宽限制的解码器每秒";
    QuantNote3 => "runs at most bandwidth ÷ bytes per token", "最多生成 带宽 ÷ 每个词元的字节数";
    QuantNote4 => "tokens a second: fewer bytes, faster.", "个词元：字节越少，速度越快。";

    // The training view: the record's messages, the charts' legends and axes, the run's numbers.
    ViewTrainUnreadable => "the training record cannot be read:", "训练记录读不出来：";
    TrainFixIt => "fix the file, or delete it to open the model without a record.",
        "请修好这个文件，或者删掉它，不带记录打开模型。";
    TrainNoLosses => "{} in {} has no logged losses yet (a run writes a row every 10 steps).",
        "{}（在 {} 里）还没有记下任何损失（训练每 10 步写一行）。";
    TrainNats => "nats", "奈特";
    TrainScore => "score", "分数";
    TrainLrAgainstStep => "learning rate against step", "学习率随步数的变化";
    TrainHeadsTitle => "heads forming: previous-token score of every head, L{} H{} bright",
        "头的形成：每个头的前一个词元分数，L{} H{} 用亮色";
    TrainHeadPrev => "L{} H{} previous-token", "L{} H{} 前一个词元";
    TrainHeadInduction => "L{} H{} induction", "L{} H{} 归纳";
    TrainOtherHeads => "other heads", "其他头";
    TrainFormedLine => "{}: formed", "{}：已形成";
    TrainBaselines => "baselines", "基线";
    TrainNoRecordIn => "no training record in {} ({}): models trained with `gptlens train` have one",
        "{} 里没有训练记录（{}）：用 `gptlens train` 训练出的模型都带有一份";
    TrainNoRecordNoDir => "no training record: the explorer was not given the model's folder, where {} would be; models trained with `gptlens train` have one",
        "没有训练记录：探索器不知道模型的文件夹在哪里（{} 应该在那里）；用 `gptlens train` 训练出的模型都带有一份";
    TrainHowToTrain => "Train a tiny model with `gptlens train --corpus FILE --out DIR` (see --help), then open it with `gptlens --model DIR explore` to see its loss fall here.",
        "用 `gptlens train --corpus FILE --out DIR` 训练一个小模型（见 --help），再用 `gptlens --model DIR explore` 打开它，就能在这里看到它的损失怎样下降。";
    TrainLossViewAnyway => "The loss view (8) scores the text on screen with this model, record or not.",
        "不管有没有记录，损失视图（8）都会用这个模型给屏幕上的文字打分。";
    TrainSteps => "steps", "步数";
    TrainOf => " of {}", "（共 {}）";
    TrainStopped => " (stopped)", "（中途停止）";
    TrainTokensSeen => "tokens seen", "见过的词元";
    TrainEpochs => "epochs", "轮数";
    TrainEpochsOf => "{} of {} tokens", "{} 轮（文本共 {} 个词元）";
    TrainNoTextSize => "? (text size not recorded)", "？（没有记录文本大小）";
    TrainWallTime => "wall time", "用时";
    TrainTokensPerSec => "tokens/s", "词元/秒";
    TrainParameters => "parameters", "参数";
    TrainTrainLoss => "train loss", "训练损失";
    TrainValLoss => "val loss", "验证损失";
    TrainPerplexity => "perplexity", "困惑度";
    TrainExpVal => "{} = exp(val)", "{} = exp(验证损失)";
    TrainNotRecorded => "not recorded", "没有记录";
    TrainValBits => "val bits/byte", "验证比特/字节";
    TrainPrevTokHead => "prev-tok head", "前一个词元头";
    TrainInduction => "induction", "归纳头";
    TrainFormedAt => "  formed at", "  形成于";
    TrainStep => "step {}", "第 {} 步";
    TrainNone => "none ≥ {}", "没有 ≥ {}";
    TrainUniform => "uniform ln V", "均匀乱猜 ln V";
    TrainUnigram => "unigram", "一元模型";
    TrainBigram => "bigram", "二元模型";
    TrainWarmup => "lr warm-up", "学习率预热";
    TrainNSteps => "{} steps", "{} 步";
    TrainLrPeak => "lr peak", "学习率峰值";
    TrainLrCosine => "lr cosine to", "余弦退火到";
    TrainBatch => "batch", "批";
    TrainBatchOf => "{} × {} tokens", "{} × {} 个词元";
    TrainWeightDecay => "weight decay", "权重衰减";
    // (end of the other view bodies)

    // The compare screen (tui::compare), the live view's bodies (tui::live::draw),
    // the lessons' fallback sentences (lesson::placeholders) and the Llama note (lesson::arch_note).
    // Fallback sentences: what a placeholder shows when the model or the prompt cannot give its value.
    /// ft.* (lesson::placeholders::finetune).
    FtNotAPair => "(the prompt is not one templated turn and its reply, \"Q: …\\nA: …\", so no token is a response)",
        "（这个提示不是按对话模板写成的一问一答“Q: …\\nA: …”，所以没有哪个词元算作回答）";
    FtNoBuiltIn => "(the built-in model {} is not available)", "（内置模型 {} 无法使用）";
    FtNotSameShape => "(this model is not of the shape of the built-in {}, so the two cannot read the same tokens side by side; open the lesson on the built-in model)",
        "（这个模型和内置的 {} 形状不同，两者没法并排读同样的词元；请在内置模型上打开这一课）";
    FtNoName => "(the response never writes the name the prompt asks for as \"Write a story about NAME.\")",
        "（提示按“Write a story about NAME.”的写法要了一个名字，回答里却从没写出这个名字）";
    FtNoResponse => "(the response has no token)", "（回答里没有词元）";
    FtLoraGpt2Only => "(gptlens finetune --lora adapts GPT-2 models only)", "（`gptlens finetune --lora` 只能用于 GPT-2 模型）";
    /// modern.chat (lesson::placeholders::modern).
    ModernNoFolder => "(the lesson was given no model folder, so this model's chat template is not read)",
        "（这一课没有拿到模型文件夹，所以读不到这个模型的对话模板）";
    ModernNoTemplate => "(this model has no chat template — none in its GGUF's tokenizer.chat_template or its folder's tokenizer_config.json — so it was probably never fine-tuned for chat; SmolLM2's shows <|im_start|>user … <|im_end|> <|im_start|>assistant)",
        "（这个模型没有对话模板——GGUF 的 tokenizer.chat_template 里没有，文件夹的 tokenizer_config.json 里也没有——所以它多半从没为对话微调过；SmolLM2 的模板会显示 <|im_start|>user … <|im_end|> <|im_start|>assistant）";
    ModernTemplateFails => "(this model's chat template does not render, so `generate --chat` cannot use it either: {})",
        "（这个模型的对话模板渲染不出来，所以 `generate --chat` 也用不了它：{}）";
    ModernStandInNoChat => "(this Llama has no chat template: the random stand-in was never fine-tuned; SmolLM2's shows <|im_start|>user … <|im_end|> <|im_start|>assistant)",
        "（这个 Llama 没有对话模板：随机生成的替身从没微调过；SmolLM2 的模板会显示 <|im_start|>user … <|im_end|> <|im_start|>assistant）";
    /// train.* (lesson::placeholders::train).
    TrainNoLog => "(not recorded: this model folder has no train-log.tsv)", "（没有记录：这个模型文件夹里没有 train-log.tsv）";
    TrainUnreadable => "(the training record cannot be read: {})", "（训练记录读不出来：{}）";
    TrainNoRecord => "This model folder has no training record (the train-log.tsv that `gptlens train` writes), so there is no curve to show here. Train a tiny model with `gptlens train` and open its folder with `--model DIR` to see one.",
        "这个模型文件夹里没有训练记录（`gptlens train` 写出的 train-log.tsv），所以这里没有曲线可看。用 `gptlens train` 训练一个小模型，再用 `--model 目录` 打开它的文件夹，就能看到曲线。";
    TrainNoBaselines => "(no baselines recorded: this model folder has no train-summary.json with them)",
        "（没有记录基线：这个模型文件夹里没有带基线的 train-summary.json）";
    TrainNoVal => "(no validation loss recorded)", "（没有记录验证损失）";
    TrainNoHeads => "(this model folder has no train-heads.tsv, the heads' scores over training that `gptlens train` writes)",
        "（这个模型文件夹里没有 train-heads.tsv，也就是 `gptlens train` 写下的各个头在训练中的分数）";
    TrainNoHeadReached => "(no head reached {})", "（没有头达到 {}）";
    /// After a head's name: it is only the best, none formed.
    TrainBestNotFormed => " (the highest previous-token score; no head reached {})", "（前一个词元分数最高的头；没有头达到 {}）";
    /// compress.* (lesson::placeholders::compression).
    CompressNotRecorded => "(not recorded: this model folder has no compression.tsv; scripts/compression-record.sh writes it)",
        "（没有记录：这个模型文件夹里没有 compression.tsv；它由 scripts/compression-record.sh 写出）";
    CompressUnreadable => "(the compression record cannot be read: {})", "（压缩记录读不出来：{}）";
    CompressNoRow => "(the compression record has no {} {} row)", "（压缩记录里没有 {} {} 这一行）";
    /// compress.block: the matrix, what it is, the block's output row and input columns.
    CompressBlock => "{} ({}), block 0: output {}, inputs {}–{}", "{}（{}）的第 0 块：输出 {}，输入 {}–{}";
    /// compress.q4.top1: k of n positions.
    CompressOfN => "{} of {}", "{}/{}";
    // The note a lesson starts with on a model of the other family (lesson::arch_note).
    NoteWrittenFor => "> **This lesson is written for {}; the model on screen is a {}.**", "> **本课按 {} 编写；屏幕上的模型是 {}。**";
    NoteSame => " What this lesson shows works the same way in both; `gptlens lesson modern` shows where they differ.",
        " 本课讲的内容在两者中是一样的；`gptlens lesson modern` 讲它们的不同。";
    NoteDiffers => " The numbers are this model's own (`gptlens lesson modern` sets the two side by side). Where the text below describes {}, this model differs:",
        " 数字都来自这个模型本身（`gptlens lesson modern` 把两者并排对比）。下文讲 {} 的地方，这个模型不同：";
    NoteRmsNorm => "**RMSNorm, not LayerNorm**: each vector is divided by its root mean square and scaled by γ; no mean is subtracted and there is no β (where the text has μ and β, this model has 0 and nothing).",
        "**RMSNorm，而不是 LayerNorm**：每个向量除以它的均方根，再乘以 γ；不减均值，也没有 β（文中的 μ 和 β，在这里是 0 和不存在）。";
    NoteLayerNorm => "**LayerNorm, not RMSNorm**: the mean is subtracted first, then the vector is divided by its standard deviation, scaled by γ and shifted by β.",
        "**LayerNorm，而不是 RMSNorm**：先减去均值，再除以标准差，乘以 γ 并加上 β。";
    NoteRope => "**no position table wpe**: the embedding is the token's row of wte alone; the position enters inside every attention layer, as a rotation of q and k (RoPE).",
        "**没有位置编码表 wpe**：嵌入只是词元在 wte 中的那一行；位置在每一层的注意力里进入，方式是旋转 q 和 k（RoPE）。";
    NoteWpe => "**a learned position table wpe**: its row for the position is added to the token's embedding; q and k are not rotated (no RoPE).",
        "**一张学到的位置编码表 wpe**：它在该位置的那一行加到词元嵌入上；q 和 k 不旋转（没有 RoPE）。";
    NoteSwiGlu => "**SwiGLU, not GELU**: the MLP computes SiLU(x·W_gate) ⊙ (x·W_up), then the down projection — three matrices instead of two.",
        "**SwiGLU，而不是 GELU**：前馈网络计算 SiLU(x·W_gate) ⊙ (x·W_up)，再做向下投影——三个矩阵，而不是两个。";
    NoteGelu => "**GELU, not SwiGLU**: one up projection, GELU, the down projection — two matrices.",
        "**GELU，而不是 SwiGLU**：一次向上投影、GELU、向下投影——两个矩阵。";
    /// Query heads, key/value heads, query heads per key/value head.
    NoteGqa => "**grouped-query attention**: its {} query heads share {} key/value heads, {} query heads reading the same keys and values.",
        "**分组查询注意力（GQA）**：{} 个查询头共享 {} 个键/值头，每 {} 个查询头读同一份键和值。";
    NoteMha => "**every query head has its own keys and values** (multi-head attention, no groups).",
        "**每个查询头都有自己的键和值**（多头注意力，没有分组）。";
    NoteUntied => "**an untied output matrix**: the logits come from lm_head, a matrix of its own, not from wte again.",
        "**不绑定的输出矩阵**：logits 来自单独的矩阵 lm_head，而不是再用一次 wte。";
    // The compare screen (tui::compare): both panels' text.
    CmpTitle => "compare", "对比";
    CmpThisModel => "this model", "这个模型";
    CmpLegend => "A = {} · B = {} · Δ = B − A", "A 是 {} · B 是 {} · Δ = B − A";
    CmpLegendInterventions => " · A with the interventions, B without", " · A 加了干预，B 没有";
    CmpLossTitle => "compare · loss: −ln P(the token that came next) under A and B",
        "对比 · 损失：A 和 B 各自的 −ln P（实际出现的下一个词元）";
    CmpOneToken => "one token: nothing to score yet (n generates the next one)", "只有一个词元：还没有可打分的（按 n 生成下一个）";
    CmpMeanLoss => "mean loss A {} · B {} · ", "平均损失 A {} · B {} · ";
    CmpPerplexity => " nats · perplexity A {} · B {}", " 奈特 · 困惑度 A {} · B {}";
    CmpSameTop => "same top token at {} of {} positions · mean KL(A‖B) {} nats", "首选词元相同的位置 {}/{} · 平均 KL(A‖B) {} 奈特";
    /// Column headers.
    CmpColPos => "pos", "位置";
    CmpColToken => "token", "词元";
    CmpColNext => "next", "下一个";
    CmpColDloss => "Δloss", "Δ损失";
    CmpColKey => "key", "键";
    CmpColDweight => "Δweight", "Δ权重";
    CmpNotGiven => "(not given yet)", "（下一个还没出现）";
    CmpLogitsTitle => "compare · next token after position {} {} under A and B", "对比 · 位置 {} {} 之后的下一个词元：A 与 B";
    CmpTopToken => "top token A {} · B {} ({}) · KL(A‖B) here {} nats", "首选词元 A {} · B {}（{}）· 此处 KL(A‖B) {} 奈特";
    CmpSame => "the same", "相同";
    CmpDiffer => "they differ", "不同";
    CmpLogitsKey => "A# / B#: the token's rank under each model; the bars: P(A) grey, P(B) coloured; ←/→ moves the position",
        "A# / B#：词元在各模型下的名次；条形：P(A) 灰色，P(B) 彩色；←/→ 移动位置";
    CmpAttentionTitle => "compare · attention of layer {} head {} from position {} {} under A and B",
        "对比 · 第 {} 层第 {} 个头从位置 {} {} 出发的注意力：A 与 B";
    CmpNoHead => "the two models differ in layers or heads here: no head to compare", "两个模型在这里的层数或头数不同：没有可对比的头";
    // The live view's bodies (tui::live::draw) beyond the labels above.
    LiveTokensPerSec => "{} tok/s", "{} 词元/秒";
    LiveLr => "lr {}", "学习率 {}";
    /// The every-head table's two rows per layer.
    LiveRowPrev => "prev", "前一";
    LiveRowInd => "ind", "归纳";
    // (end of compare, live, fallbacks, Llama note)
}

impl Msg {
    /// The string in `lang` with its `{}` slots filled by `args`, in order
    /// (a slot without an argument stays empty).
    pub fn fill(self, lang: Lang, args: &[&dyn std::fmt::Display]) -> String {
        let mut out = String::new();
        let mut args = args.iter();
        let mut parts = self.get(lang).split("{}");
        if let Some(first) = parts.next() {
            out.push_str(first);
        }
        for p in parts {
            if let Some(a) = args.next() {
                out.push_str(&a.to_string());
            }
            out.push_str(p);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Strings only a translation needs (English says nothing there).
    const ONLY_TRANSLATED: &[Msg] = &[
        Msg::ListUntranslatedMark,
        Msg::ListUntranslated,
        Msg::FallbackNote,
    ];

    #[test]
    fn every_interface_string_has_both_languages_with_the_same_slots() {
        for &m in Msg::ALL {
            let slots = |l: Lang| m.get(l).matches("{}").count();
            for l in Lang::ALL {
                let english_only_blank = l == Lang::En && ONLY_TRANSLATED.contains(&m);
                assert!(
                    english_only_blank || !m.get(l).trim().is_empty(),
                    "{m:?} has no {l} text"
                );
            }
            if !ONLY_TRANSLATED.contains(&m) {
                assert_eq!(slots(Lang::En), slots(Lang::Zh), "{m:?}: the slots differ");
                assert_ne!(m.get(Lang::En), m.get(Lang::Zh), "{m:?} is not translated");
            }
        }
    }

    #[test]
    fn fill_puts_the_arguments_in_order() {
        assert_eq!(
            Msg::CaptionPosition.fill(Lang::Zh, &[&3, &"'Tom'"]),
            "位置 3 'Tom'"
        );
        assert_eq!(Msg::PrintChoice.fill(Lang::En, &[&'b']), " (choice **b**)");
        assert_eq!(Msg::CaptionLayer.fill(Lang::Zh, &[]), "第  层");
    }
}
