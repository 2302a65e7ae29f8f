//! A small reader for `.netrc` files (the `netrc-file` option), as curl reads them for Nix.

use std::path::Path;

use crate::error::CacheError;

/// Credentials for one machine.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `login`.
    pub login: String,
    /// `password`.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials(***)")
    }
}

/// The entries of a netrc file.
#[derive(Clone, Debug, Default)]
pub struct Netrc {
    machines: Vec<(String, Credentials)>,
    default: Option<Credentials>,
}

impl Netrc {
    /// Read a netrc file; a missing file means no credentials.
    pub fn load(path: &Path) -> Result<Self, CacheError> {
        match std::fs::read(path) {
            Ok(bytes) => Ok(Self::parse(&String::from_utf8_lossy(&bytes))),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(error) => Err(CacheError::Netrc {
                path: path.to_owned(),
                reason: error.to_string(),
            }),
        }
    }

    /// Parse netrc text: `machine NAME`, `default`, `login`, `password`, `account`, `macdef`.
    /// Never fails; unknown tokens are skipped.
    #[must_use]
    pub fn parse(text: &str) -> Self {
        let mut out = Self::default();
        let tokens = tokenize(text);
        // The entry being filled: None = before the first machine/default.
        let mut current: Option<(Option<String>, Credentials)> = None;
        let finish = |out: &mut Self, entry: Option<(Option<String>, Credentials)>| match entry {
            Some((Some(host), creds)) => out.machines.push((host, creds)),
            Some((None, creds)) if out.default.is_none() => out.default = Some(creds),
            _ => {}
        };
        let mut iter = tokens.into_iter();
        while let Some(token) = iter.next() {
            match token {
                Token::Word(word) => match word.as_str() {
                    "machine" => {
                        finish(&mut out, current.take());
                        let host = iter.next().map(Token::into_text).unwrap_or_default();
                        current = Some((Some(host), empty_credentials()));
                    }
                    "default" => {
                        finish(&mut out, current.take());
                        current = Some((None, empty_credentials()));
                    }
                    "login" => {
                        let value = iter.next().map(Token::into_text).unwrap_or_default();
                        if let Some((_, creds)) = &mut current {
                            creds.login = value;
                        }
                    }
                    "password" => {
                        let value = iter.next().map(Token::into_text).unwrap_or_default();
                        if let Some((_, creds)) = &mut current {
                            creds.password = value;
                        }
                    }
                    "account" => {
                        iter.next();
                    }
                    _ => {}
                },
                Token::Quoted(_) | Token::MacroBody => {}
            }
        }
        finish(&mut out, current);
        out
    }

    /// Credentials for `host`: the first `machine` entry naming it, else `default`.
    #[must_use]
    pub fn lookup(&self, host: &str) -> Option<&Credentials> {
        self.machines
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(host))
            .map(|(_, creds)| creds)
            .or(self.default.as_ref())
    }
}

fn empty_credentials() -> Credentials {
    Credentials {
        login: String::new(),
        password: String::new(),
    }
}

enum Token {
    Word(String),
    Quoted(String),
    /// A `macdef` body, which runs to the next empty line and is ignored.
    MacroBody,
}

impl Token {
    fn into_text(self) -> String {
        match self {
            Self::Word(text) | Self::Quoted(text) => text,
            Self::MacroBody => String::new(),
        }
    }
}

fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    let mut after_macdef = 0_u8;
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        if c == '#' {
            // A comment runs to the end of the line.
            for c in chars.by_ref() {
                if c == '\n' {
                    break;
                }
            }
            continue;
        }
        let token = if c == '"' {
            chars.next();
            let mut value = String::new();
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => {
                        if let Some(escaped) = chars.next() {
                            value.push(match escaped {
                                'n' => '\n',
                                't' => '\t',
                                'r' => '\r',
                                other => other,
                            });
                        }
                    }
                    other => value.push(other),
                }
            }
            Token::Quoted(value)
        } else {
            let mut value = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                value.push(c);
                chars.next();
            }
            Token::Word(value)
        };
        let is_macdef = matches!(&token, Token::Word(w) if w == "macdef");
        tokens.push(token);
        if is_macdef {
            after_macdef = 1;
        } else if after_macdef == 1 {
            // The macro name was read: skip the body up to an empty line.
            after_macdef = 0;
            let mut previous_newline = false;
            for c in chars.by_ref() {
                if c == '\n' {
                    if previous_newline {
                        break;
                    }
                    previous_newline = true;
                } else if c != '\r' {
                    previous_newline = false;
                }
            }
            tokens.push(Token::MacroBody);
        }
    }
    tokens
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn machines_and_default() {
        let netrc = Netrc::parse(
            "# comment\nmachine cache.example.org login alice password s3cret\n\
             machine other.org\n  login bob\n  account x\n  password \"p w\\\"q\"\n\
             default login anon password guest\n",
        );
        let creds = netrc.lookup("cache.example.org").unwrap();
        assert_eq!(creds.login, "alice");
        assert_eq!(creds.password, "s3cret");
        assert_eq!(netrc.lookup("CACHE.example.org").unwrap().login, "alice");
        assert_eq!(netrc.lookup("other.org").unwrap().password, "p w\"q");
        assert_eq!(netrc.lookup("unknown.org").unwrap().login, "anon");
        assert!(!format!("{creds:?}").contains("s3cret"));
    }

    #[test]
    fn macdef_is_skipped_and_first_machine_wins() {
        let netrc = Netrc::parse(
            "macdef init\nmachine fake login x password y\n\nmachine h login a password b\nmachine h login c password d\n",
        );
        assert_eq!(netrc.lookup("h").unwrap().login, "a");
        assert!(netrc.lookup("fake").is_none());
        assert!(Netrc::parse("").lookup("h").is_none());
        assert!(Netrc::parse("login x password y").lookup("h").is_none());
    }

    #[test]
    fn missing_file_means_no_credentials() {
        let netrc = Netrc::load(Path::new("/nonexistent/crossplan/netrc")).unwrap();
        assert!(netrc.lookup("h").is_none());
    }

    proptest! {
        #[test]
        fn never_panics(text in "\\PC*") {
            let _ = Netrc::parse(&text);
        }

        #[test]
        fn finds_generated_entries(host in "[a-z]{1,10}\\.[a-z]{2,5}", login in "[!-~&&[^\"#]]{1,12}", password in "[!-~&&[^\"#]]{1,12}") {
            let text = format!("machine other.invalid login u password p\nmachine {host}\n\tlogin {login} password {password}\n");
            let netrc = Netrc::parse(&text);
            let creds = netrc.lookup(&host).unwrap();
            prop_assert_eq!(&creds.login, &login);
            prop_assert_eq!(&creds.password, &password);
        }
    }
}
