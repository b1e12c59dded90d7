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
