//! Line breaking by display width, for English and Chinese alike.
//!
//! English breaks at spaces. Chinese has none: a line may break between any
//! two CJK characters, except that no line may start with closing
//! punctuation (，。、；：？！」』）》…) nor end with opening punctuation
//! (「『（《“); the character before such a mark moves down with it (the rule
//! Chinese typesetting calls 避头尾, kinsoku in Japanese). Widths are terminal
//! columns (`unicode-width`: a CJK character is 2). A run with no break at
//! all (a long URL) is cut where it must, as before.

use std::ops::Range;
use unicode_width::UnicodeWidthChar;

/// A character of a script written without spaces between words (CJK
/// ideographs, kana, Hangul) or a full-width form, CJK punctuation included.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x115F       // Hangul Jamo (leading)
        | 0x2E80..=0x303F     // CJK radicals, Kangxi, CJK symbols and punctuation
        | 0x3040..=0x30FF     // Hiragana, Katakana
        | 0x3100..=0x31FF     // Bopomofo, Hangul compatibility, Kanbun, CJK strokes
        | 0x3200..=0x4DBF     // enclosed CJK, CJK compatibility, extension A
        | 0x4E00..=0x9FFF     // CJK unified ideographs
        | 0xAC00..=0xD7AF     // Hangul syllables
        | 0xF900..=0xFAFF     // CJK compatibility ideographs
        | 0xFE30..=0xFE4F     // CJK compatibility forms
        | 0xFF00..=0xFFEF     // half-width and full-width forms
        | 0x20000..=0x3FFFF   // extensions B and later
    )
}

/// Punctuation no line may start with: Chinese closing marks and pauses, and
/// their ASCII cousins (which matter only where a break is allowed, next to CJK).
pub fn no_line_start(c: char) -> bool {
    matches!(
        c,
        '，' | '。'
            | '、'
            | '；'
            | '：'
            | '？'
            | '！'
            | '」'
            | '』'
            | '）'
            | '》'
            | '〉'
            | '】'
            | '〕'
            | '〗'
            | '〙'
            | '］'
            | '｝'
            | '”'
            | '’'
            | '…'
            | '‥'
            | '・'
            | '％'
            | '．'
            | '～'
            | '〜'
            | 'ー'
            | '々'
            | ','
            | '.'
            | ';'
            | ':'
            | '!'
            | '?'
            | ')'
            | ']'
            | '}'
            | '%'
    )
}

/// Punctuation no line may end with: opening brackets and quotes.
pub fn no_line_end(c: char) -> bool {
    matches!(
        c,
        '「' | '『'
            | '（'
            | '《'
            | '〈'
            | '【'
            | '〔'
            | '〖'
            | '〘'
            | '［'
            | '｛'
            | '“'
            | '‘'
            | '('
            | '['
            | '{'
    )
}

/// Whether a line may break between `a` and `b` (neither a space): only
/// next to a CJK character, and never before a closing or after an opening
/// mark; two dashes or ellipses of a pair stay together.
pub fn can_break_between(a: char, b: char) -> bool {
    if no_line_start(b) || no_line_end(a) {
        return false;
    }
    // Markdown's emphasis and code markers touch the text they mark: a
    // break beside one unmarks it ("**因果掩码\n**在" is no longer bold).
    if matches!(a, '*' | '`') || matches!(b, '*' | '`') {
        return false;
    }
    if a == b && matches!(a, '—' | '…' | '─') {
        return false;
    }
    is_cjk(a) || is_cjk(b)
}

fn cols(c: char) -> usize {
    c.width().unwrap_or(0)
}

/// The lines `items` break into at `w` columns, as index ranges (spaces at
/// the end of a line, and at the start of every line but the first, left
/// out; at least one, possibly empty, range).
/// `ch` reads an item's character, so styled characters wrap as plain ones.
pub fn line_ranges<T>(items: &[T], ch: impl Fn(&T) -> char, w: usize) -> Vec<Range<usize>> {
    let w = w.max(1);
    let n = items.len();
    let c = |i: usize| ch(&items[i]);
    let mut out = vec![];
    let mut start = 0;
    loop {
        // The first line keeps its indent; the others start at a word.
        while start > 0 && start < n && c(start) == ' ' {
            start += 1;
        }
        if start >= n {
            break;
        }
        let (mut used, mut last_op, mut end) = (0usize, None, n);
        let mut i = start;
        while i < n {
            let ci = c(i);
            if i > start {
                let p = c(i - 1);
                // At a space, unless what follows it is a (non-ASCII) closing
                // mark such as the … that ends a shortened vector.
                let at_space = ci == ' '
                    && p != ' '
                    && !(i..n)
                        .map(c)
                        .find(|x| *x != ' ')
                        .is_some_and(|x| !x.is_ascii() && no_line_start(x));
                if at_space || p != ' ' && ci != ' ' && can_break_between(p, ci) {
                    last_op = Some(i);
                }
            }
            if ci != ' ' && used + cols(ci) > w && i > start {
                end = match last_op {
                    Some(b) => b,
                    // Nowhere to break: cut here, but not before a closing mark
                    // when the character before it can go down with it.
                    None if no_line_start(ci)
                        && i - 1 > start
                        && (is_cjk(ci) || is_cjk(c(i - 1))) =>
                    {
                        i - 1
                    }
                    None => i,
                };
                break;
            }
            used += cols(ci);
            i += 1;
        }
        let mut e = end;
        while e > start && c(e - 1) == ' ' {
            e -= 1;
        }
        out.push(start..e);
        if end >= n {
            break;
        }
        start = end;
    }
    if out.is_empty() {
        out.push(0..0);
    }
    out
}

/// `s` broken into lines of at most `w` columns (a character wider than `w`
/// gets a line of its own).
pub fn wrap(s: &str, w: usize) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    line_ranges(&chars, |c| *c, w)
        .into_iter()
        .map(|r| chars[r].iter().collect())
        .collect()
}

/// Appends the next source line of a paragraph to `para`: with a space, as
/// markdown joins lines, except between two CJK characters, where a space
/// would show as a gap in the middle of a Chinese sentence. Markdown's
/// emphasis and code markers at the join are looked through.
pub fn join_line(para: &mut String, next: &str) {
    if para.is_empty() {
        para.push_str(next);
        return;
    }
    let marker = |c: &char| matches!(c, '*' | '`' | '_');
    // Curly quotes, dashes and ellipses belong to the Chinese text they touch.
    let cjk_side = |c: char| is_cjk(c) || matches!(c, '“' | '”' | '‘' | '’' | '—' | '…');
    let last = para.chars().rev().find(|c| !marker(c));
    let first = next.chars().find(|c| !marker(c));
    let tight = matches!((last, first), (Some(a), Some(b))
        if cjk_side(a) && cjk_side(b) && (is_cjk(a) || is_cjk(b)));
    // Full-width punctuation carries its own space: "查询：" then "q = …".
    let after_mark = last.is_some_and(|a| is_cjk(a) && no_line_start(a));
    if !tight && !after_mark {
        para.push(' ');
    }
    para.push_str(next);
}

/// Markdown with every prose paragraph rewrapped to `w` columns by the rules
/// above (source lines joined first, as [`join_line`] does); headings,
/// tables, code blocks, HTML comments and blank lines are kept as they are,
/// and a list or quote item's continuation lines are indented under its text.
pub fn reflow_markdown(md: &str, w: usize) -> String {
    let mut out = String::new();
    let mut para = String::new();
    let mut prefix = String::new();
    let mut code = false;
    let flush = |para: &mut String, prefix: &mut String, out: &mut String| {
        if para.is_empty() {
            return;
        }
        let indent = if let Some(item) = prefix.strip_prefix("> ") {
            // A quoted item's next lines stay in the quote, under its text
            // (repeating "> - " would start a new item).
            format!("> {}", " ".repeat(item.chars().count()))
        } else if prefix.starts_with('>') {
            prefix.clone()
        } else {
            " ".repeat(prefix.chars().count())
        };
        let body_w = w.saturating_sub(indent.chars().count()).max(10);
        for (i, l) in wrap(para, body_w).iter().enumerate() {
            out.push_str(if i == 0 {
                prefix.as_str()
            } else {
                indent.as_str()
            });
            out.push_str(l);
            out.push('\n');
        }
        para.clear();
        prefix.clear();
    };
    for line in md.lines() {
        let t = line.trim_start();
        if t.starts_with("```") {
            flush(&mut para, &mut prefix, &mut out);
            code = !code;
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let keep = code
            || t.is_empty()
            || t == ">"
            || t.starts_with('#')
            || t.starts_with('|')
            || t.starts_with("<!--")
            || line.starts_with("    ");
        if keep {
            flush(&mut para, &mut prefix, &mut out);
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let item = list_prefix(line);
        if let Some(p) = item {
            flush(&mut para, &mut prefix, &mut out);
            prefix = p.to_string();
            para.push_str(&line[p.len()..]);
        } else if para.is_empty() {
            para.push_str(line.trim());
        } else {
            join_line(&mut para, line.trim());
        }
    }
    flush(&mut para, &mut prefix, &mut out);
    out
}

/// The marker that opens a list or quote item (`- `, `* `, `1. `, `> `, `> - `), if any.
fn list_prefix(line: &str) -> Option<&str> {
    let t = line.trim_start();
    let lead = line.len() - t.len();
    let rest = if let Some(r) = t.strip_prefix("> ") {
        r
    } else if t == ">" {
        return None;
    } else {
        t
    };
    let quote = t.len() - rest.len();
    let marker = if rest.starts_with("- ") || rest.starts_with("* ") {
        2
    } else {
        let digits = rest.chars().take_while(|c| c.is_ascii_digit()).count();
        if digits > 0 && rest[digits..].starts_with(". ") {
            digits + 2
        } else {
            0
        }
    };
    if quote == 0 && marker == 0 {
        return None;
    }
    Some(&line[..lead + quote + marker])
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_width::UnicodeWidthStr;

    fn check(lines: &[String], w: usize) {
        for (i, l) in lines.iter().enumerate() {
            assert!(l.width() <= w, "line {i} is {} columns: {l:?}", l.width());
            let first = l.chars().next();
            assert!(
                !first.is_some_and(no_line_start) || i == 0,
                "line {i} starts with closing punctuation: {lines:#?}"
            );
            if i + 1 < lines.len() {
                let last = l.chars().last();
                assert!(
                    !last.is_some_and(no_line_end),
                    "line {i} ends with opening punctuation: {lines:#?}"
                );
            }
        }
    }

    #[test]
    fn english_breaks_at_spaces_as_before() {
        let l = wrap("the quick brown fox jumps over the lazy dog", 10);
        assert_eq!(
            l,
            ["the quick", "brown fox", "jumps over", "the lazy", "dog"]
        );
        assert_eq!(wrap("", 10), [""]);
        assert_eq!(
            wrap("abcdefghij", 4),
            ["abcd", "efgh", "ij"],
            "a run with no break is cut"
        );
        assert_eq!(
            wrap("abcd.", 4),
            ["abcd", "."],
            "English is cut as it always was"
        );
        assert_eq!(
            wrap("  a) one two", 8),
            ["  a) one", "two"],
            "the first line keeps its indent"
        );
    }

    #[test]
    fn chinese_breaks_between_characters_by_display_width() {
        let s = "注意力是唯一能让一个位置读取其他位置信息的地方";
        let l = wrap(s, 10);
        assert_eq!(l[0], "注意力是唯", "5 characters are 10 columns");
        check(&l, 10);
        assert_eq!(l.concat(), s, "nothing lost, nothing added");
        // odd width: a 2-column character never straddles the edge
        let l = wrap(s, 9);
        assert!(
            l.iter().all(|x| x.width() == 8 || x == l.last().unwrap()),
            "{l:?}"
        );
    }

    #[test]
    fn no_line_starts_with_closing_or_ends_with_opening_punctuation() {
        // At width 8 the comma would open the second line: 你好世界 is 8 columns.
        let l = wrap("你好世界，再见。", 8);
        assert_eq!(
            l,
            ["你好世", "界，再", "见。"],
            "界 moves down with the comma"
        );
        let l = wrap("一二三（四五）六七", 6);
        assert_eq!(
            l,
            ["一二三", "（四", "五）六", "七"],
            "（ stays with 四, ） with 五"
        );
        check(&l, 6);
        for w in 4..30 {
            let s =
                "模型读到“gave the ball to”时，必须回头（向前）去找人名：Tom、Lily。最后——结束……";
            let l = wrap(s, w);
            check(&l, w);
            let joined: String = l.concat().chars().filter(|c| *c != ' ').collect();
            let orig: String = s.chars().filter(|c| *c != ' ').collect();
            assert_eq!(joined, orig, "w = {w}");
        }
    }

    #[test]
    fn mixed_text_breaks_at_spaces_and_between_cjk() {
        let l = wrap("这个模型有 4 个头，每个头 32 维。", 12);
        check(&l, 12);
        assert!(
            l.iter().all(|x| !x.starts_with(' ') && !x.ends_with(' ')),
            "{l:?}"
        );
        // a Latin word is never split when it fits on a line
        let l = wrap("我们用 softmax 把分数变成权重", 10);
        assert!(l.iter().any(|x| x.contains("softmax")), "{l:?}");
    }

    #[test]
    fn source_lines_join_without_a_space_between_chinese_characters() {
        let mut p = "查询问“我在找什么？”，每个键回答".to_string();
        join_line(&mut p, "“我这里有什么？”");
        assert_eq!(p, "查询问“我在找什么？”，每个键回答“我这里有什么？”");
        let mut p = "一个**查询**".to_string();
        join_line(&mut p, "和一个键");
        assert_eq!(p, "一个**查询**和一个键", "looked through the bold marker");
        let mut p = "the model".to_string();
        join_line(&mut p, "reads");
        assert_eq!(p, "the model reads");
        let mut p = "长度 dₖ = 32".to_string();
        join_line(&mut p, "（这个模型）");
        assert_eq!(
            p, "长度 dₖ = 32 （这个模型）",
            "Latin then CJK keeps its space"
        );
        let mut p = "位置 10 上的查询 '·to'：".to_string();
        join_line(&mut p, "q = [0.1, 0.2]");
        assert_eq!(
            p, "位置 10 上的查询 '·to'：q = [0.1, 0.2]",
            "no space after ："
        );
        let mut p = "（见 `multihead` 一课）。".to_string();
        join_line(&mut p, "**Then**");
        assert_eq!(p, "（见 `multihead` 一课）。**Then**", "looked through");
    }

    /// The attention lesson's "**因果掩码**在" printed at every width: a
    /// break never lands beside an emphasis or code marker, which would
    /// leave "**" alone at a line's end or start and the bold unmatched
    /// (from 16 columns, the marked run's width, below which it is cut).
    #[test]
    fn no_break_beside_a_markdown_marker() {
        let s = "所以它不能偷看后面的词元。**因果掩码**在 softmax 之前把后面键的分数设成 −∞，即`mask`的作用。";
        for w in 16..60 {
            let lines = wrap(s, w);
            for l in &lines {
                assert!(
                    !l.starts_with(['*', '`']) && !l.ends_with(['*', '`']),
                    "at {w}: {lines:?}"
                );
            }
        }
    }

    #[test]
    fn reflow_keeps_structure_and_wraps_prose() {
        let md = "# 标题很长很长很长很长很长很长很长很长很长很长很长\n\n第一行文字，\n第二行文字。\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```\ncode 不动 不动 不动\n```\n\n- 列表项目一二三四五六七八九十一二三四五\n> **先猜一猜：** 问题一二三四五六七八九十一二三\n";
        let out = reflow_markdown(md, 20);
        assert!(
            out.contains("# 标题很长很长很长很长很长很长很长很长很长很长很长\n"),
            "{out}"
        );
        assert!(out.contains("第一行文字，第二行文\n字。\n"), "{out}");
        assert!(out.contains("| a | b |\n|---|---|\n| 1 | 2 |\n"), "{out}");
        assert!(out.contains("```\ncode 不动 不动 不动\n```\n"), "{out}");
        assert!(
            out.contains("- 列表项目一二三四五\n  六七八九十一二三四\n  五\n"),
            "{out}"
        );
        assert!(
            out.lines().filter(|l| l.starts_with("> ")).count() >= 2,
            "{out}"
        );
        for l in out.lines().filter(|l| !l.starts_with('#')) {
            assert!(l.width() <= 20 || l.contains("code"), "{l}");
        }
    }

    /// A quote's blank line (`>` alone) ends its paragraph and stays on a
    /// line of its own; it was joined onto the text before ("…？ >").
    #[test]
    fn a_quotes_blank_line_stays_a_line() {
        let out = reflow_markdown("> 问题是什么？\n>\n> - **a** — 一\n", 40);
        assert_eq!(out, "> 问题是什么？\n>\n> - **a** — 一\n", "{out}");
    }
}
