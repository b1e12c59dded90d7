//! The language gptlens speaks: lessons and interface strings in English or
//! Chinese. [`Lang`] is chosen once at the CLI edge (`--lang`, else the
//! locale variables) and passed down; nothing below reads the environment.

mod strings;

pub use strings::Msg;

use std::fmt;

/// A language gptlens has text in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Lang {
    /// English: the source of truth for every lesson.
    #[default]
    En,
    /// Simplified Chinese (lessons/zh/).
    Zh,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Zh];

    /// The code `--lang` takes and lesson folders use (`zh` → lessons/zh/).
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }

    /// The language's own name, for messages.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Zh => "中文",
        }
    }

    /// The language a POSIX locale name asks for: `zh_CN.UTF-8`, `zh_TW`,
    /// `zh` → Chinese; anything else (`C`, `en_US.UTF-8`, `POSIX`) → English.
    pub fn from_locale(locale: &str) -> Lang {
        let lang = locale
            .split(['_', '.', '@', '-'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        if lang == "zh" { Lang::Zh } else { Lang::En }
    }

    /// The language the locale variables ask for, as POSIX reads them: the
    /// first of LC_ALL, LC_MESSAGES, LANG that is set and not empty decides
    /// (so `LC_ALL=C` wins over `LANG=zh_CN.UTF-8`). `get` is the
    /// environment lookup, passed in so tests need not change the process's.
    pub fn from_env_with(get: impl Fn(&str) -> Option<String>) -> Lang {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .find_map(|k| get(k).filter(|v| !v.is_empty()))
            .map_or(Lang::En, |v| Lang::from_locale(&v))
    }

    /// [`Lang::from_env_with`] on this process's environment.
    pub fn from_env() -> Lang {
        Lang::from_env_with(|k| std::env::var(k).ok())
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> Lang {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Lang::from_env_with(|k| vars.iter().find(|(k2, _)| k2 == k).map(|(_, v)| v.clone()))
    }

    #[test]
    fn locale_names_that_say_chinese_choose_chinese() {
        for l in [
            "zh_CN.UTF-8",
            "zh_TW",
            "zh",
            "ZH_cn.utf8",
            "zh_CN@pinyin",
            "zh-Hans",
        ] {
            assert_eq!(Lang::from_locale(l), Lang::Zh, "{l}");
        }
        for l in [
            "C",
            "POSIX",
            "en_US.UTF-8",
            "C.UTF-8",
            "",
            "zhx_CN",
            "de_DE",
        ] {
            assert_eq!(Lang::from_locale(l), Lang::En, "{l}");
        }
    }

    #[test]
    fn the_first_set_locale_variable_decides_as_posix_says() {
        assert_eq!(env(&[]), Lang::En);
        assert_eq!(env(&[("LANG", "zh_CN.UTF-8")]), Lang::Zh);
        assert_eq!(
            env(&[("LC_MESSAGES", "zh_CN.UTF-8"), ("LANG", "C")]),
            Lang::Zh
        );
        assert_eq!(env(&[("LC_ALL", "C"), ("LANG", "zh_CN.UTF-8")]), Lang::En);
        assert_eq!(
            env(&[("LC_ALL", ""), ("LANG", "zh_CN.UTF-8")]),
            Lang::Zh,
            "empty is unset"
        );
        assert_eq!(
            env(&[("LC_ALL", "zh_CN"), ("LC_MESSAGES", "en_US")]),
            Lang::Zh
        );
    }
}
