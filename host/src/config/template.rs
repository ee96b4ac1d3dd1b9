//! `{{ get_env('NAME') }}` templates in configuration strings.
//!
//! Only one expression is supported, on purpose: `get_env('NAME')` or `get_env('NAME', 'default')`
//! (single or double quotes, optional spaces). Anything else inside `{{ }}` is an error rather than
//! being passed through, so a typo never reaches a help desk as a literal string. Errors name the
//! variable and the key path but never a value: rendered values are often secrets.

use std::fmt;

use serde_yaml::Value;

/// Why a string could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    /// `get_env('NAME')` without a default, and `NAME` is not set.
    UnsetVariable { variable: String },
    /// The variable is set but not valid UTF-8.
    NotUnicode { variable: String },
    /// `{{ ... }}` holds something other than a supported `get_env(...)` call.
    UnsupportedExpression,
    /// `{{` without a matching `}}`.
    Unterminated,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnsetVariable { variable } => write!(
                f,
                "environment variable {variable} is not set (used by get_env('{variable}')); \
                 set it, or give a default: get_env('{variable}', 'default')"
            ),
            Self::NotUnicode { variable } => {
                write!(f, "environment variable {variable} is not valid UTF-8")
            }
            // The expression itself is not echoed: a mistyped template may hold a literal secret.
            Self::UnsupportedExpression => f.write_str(
                "unsupported template expression; only {{ get_env('NAME') }} and \
                 {{ get_env('NAME', 'default') }} are supported",
            ),
            Self::Unterminated => f.write_str("template `{{` is not closed with `}}`"),
        }
    }
}

/// An environment variable whose value is not valid UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotUnicode;

/// Looks up an environment variable: `Ok(None)` if unset.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Result<Option<String>, NotUnicode>;

/// The process environment.
pub fn process_env(name: &str) -> Result<Option<String>, NotUnicode> {
    match std::env::var(name) {
        Ok(value) => Ok(Some(value)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(NotUnicode),
    }
}

/// Renders every `{{ ... }}` in `text`. Text without `{{` is returned unchanged.
pub fn render_str(text: &str, env: EnvLookup<'_>) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or(TemplateError::Unterminated)?;
        let call = parse_get_env(&after[..end]).ok_or(TemplateError::UnsupportedExpression)?;
        let value = match env(call.variable) {
            Ok(Some(value)) => value,
            Ok(None) => match call.default {
                Some(default) => default.to_string(),
                None => {
                    return Err(TemplateError::UnsetVariable {
                        variable: call.variable.to_string(),
                    })
                }
            },
            Err(NotUnicode) => {
                return Err(TemplateError::NotUnicode {
                    variable: call.variable.to_string(),
                })
            }
        };
        out.push_str(&value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// A template problem at one key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateProblem {
    /// Dotted key path, e.g. `ticket_systems.zendesk.params.api_token`.
    pub key_path: String,
    pub error: TemplateError,
}

/// Renders every string value of a YAML tree in place and returns every problem found, so that
/// one run of `otai check` lists them all. Mapping keys are names and are left alone.
pub fn render_tree(value: &mut Value, env: EnvLookup<'_>) -> Vec<TemplateProblem> {
    let mut problems = Vec::new();
    walk(value, &mut String::new(), env, &mut problems);
    problems
}

fn walk(
    value: &mut Value,
    path: &mut String,
    env: EnvLookup<'_>,
    problems: &mut Vec<TemplateProblem>,
) {
    match value {
        Value::String(text) => match render_str(text, env) {
            Ok(rendered) => *text = rendered,
            Err(error) => problems.push(TemplateProblem {
                key_path: path.clone(),
                error,
            }),
        },
        Value::Sequence(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{index}]"));
                walk(item, path, env, problems);
                path.truncate(len);
            }
        }
        Value::Mapping(map) => {
            for (key, item) in map.iter_mut() {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                push_key(path, key);
                walk(item, path, env, problems);
                path.truncate(len);
            }
        }
        Value::Tagged(tagged) => walk(&mut tagged.value, path, env, problems),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

fn push_key(path: &mut String, key: &Value) {
    match key {
        Value::String(s) => path.push_str(s),
        Value::Number(n) => path.push_str(&n.to_string()),
        Value::Bool(b) => path.push_str(&b.to_string()),
        _ => path.push_str("<key>"),
    }
}

struct GetEnv<'a> {
    variable: &'a str,
    default: Option<&'a str>,
}

/// Parses `get_env('NAME')` / `get_env("NAME", 'default')` with optional spaces.
fn parse_get_env(expr: &str) -> Option<GetEnv<'_>> {
    let rest = expr
        .trim()
        .strip_prefix("get_env")?
        .trim_start()
        .strip_prefix('(')?;
    let (variable, rest) = quoted(rest.trim_start())?;
    let rest = rest.trim_start();
    let (default, rest) = match rest.strip_prefix(',') {
        Some(rest) => {
            let (default, rest) = quoted(rest.trim_start())?;
            (Some(default), rest.trim_start())
        }
        None => (None, rest),
    };
    if rest.strip_prefix(')')?.trim().is_empty() && is_variable_name(variable) {
        Some(GetEnv { variable, default })
    } else {
        None
    }
}

/// A string in single or double quotes (no escapes), and what follows it.
fn quoted(text: &str) -> Option<(&str, &str)> {
    let quote = text.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let body = &text[1..];
    let end = body.find(quote)?;
    Some((&body[..end], &body[end + 1..]))
}

fn is_variable_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Result<Option<String>, NotUnicode> {
        match name {
            "TOKEN" => Ok(Some("s3cr3t".into())),
            "EMPTY" => Ok(Some(String::new())),
            _ => Ok(None),
        }
    }

    #[test]
    fn renders_both_quote_styles_and_optional_spaces() {
        for text in [
            "{{ get_env('TOKEN') }}",
            "{{get_env(\"TOKEN\")}}",
            "{{  get_env ( 'TOKEN' )  }}",
            "{{ get_env('TOKEN', 'fallback') }}",
        ] {
            assert_eq!(render_str(text, &env).unwrap(), "s3cr3t", "{text}");
        }
    }

    #[test]
    fn renders_inside_text_and_several_times() {
        assert_eq!(
            render_str(
                "Bearer {{ get_env('TOKEN') }}/{{ get_env('EMPTY') }}!",
                &env
            )
            .unwrap(),
            "Bearer s3cr3t/!"
        );
    }

    #[test]
    fn default_is_used_only_when_unset() {
        assert_eq!(
            render_str("{{ get_env('NOPE', \"dflt\") }}", &env).unwrap(),
            "dflt"
        );
        assert_eq!(
            render_str("{{ get_env('EMPTY', 'dflt') }}", &env).unwrap(),
            ""
        );
    }

    #[test]
    fn unset_variable_without_default_is_an_error_naming_it() {
        let err = render_str("{{ get_env('NOPE') }}", &env).unwrap_err();
        assert_eq!(
            err,
            TemplateError::UnsetVariable {
                variable: "NOPE".into()
            }
        );
        assert!(err.to_string().contains("NOPE"));
    }

    #[test]
    fn other_expressions_are_rejected() {
        for text in [
            "{{ TOKEN }}",
            "{{ get_env(TOKEN) }}",
            "{{ get_env('TOKEN') | upper }}",
            "{{ env('TOKEN') }}",
            "{{ get_env('TO KEN') }}",
            "{{ }}",
        ] {
            assert_eq!(
                render_str(text, &env).unwrap_err(),
                TemplateError::UnsupportedExpression,
                "{text}"
            );
        }
        assert_eq!(
            render_str("{{ get_env('TOKEN')", &env).unwrap_err(),
            TemplateError::Unterminated
        );
    }

    #[test]
    fn plain_text_is_unchanged() {
        assert_eq!(
            render_str("no template } here {", &env).unwrap(),
            "no template } here {"
        );
    }

    #[test]
    fn tree_problems_carry_key_paths() {
        let mut tree: Value =
            serde_yaml::from_str("a:\n  b: \"{{ get_env('NOPE') }}\"\n  list: [x, \"{{ bad }}\"]\n  ok: \"{{ get_env('TOKEN') }}\"\n")
                .unwrap();
        let problems = render_tree(&mut tree, &env);
        let paths: Vec<_> = problems.iter().map(|p| p.key_path.as_str()).collect();
        assert_eq!(paths, ["a.b", "a.list[1]"]);
        assert_eq!(tree["a"]["ok"], Value::String("s3cr3t".into()));
    }
}
