//! `--format`: the part of Go's templates that `docker inspect -f` is used with.
//!
//! `{{ .State.Pid }}` walks the inspected JSON, field by field;
//! `{{json .Config}}` prints a value as JSON; anything outside `{{ }}` is
//! printed as it is. Values print as Go prints them: strings bare, lists as
//! `[a b]`, objects as `map[k:v]`, a missing field as `<no value>`. Not a
//! kernel mechanism; the lesson types `docker inspect --format '{{ .State.Pid }}'`.
//! Introduced in chapter 4.

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// Renders `template` with `value` as `.`.
pub fn render(template: &str, value: &Value) -> Result<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let end =
            rest[start..].find("}}").with_context(|| format!("the template {template:?} has an unclosed {{{{"))?;
        out.push_str(&action(rest[start + 2..start + end].trim(), value)?);
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

fn action(text: &str, value: &Value) -> Result<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    match words.as_slice() {
        ["json", path] => Ok(serde_json::to_string(&lookup(path, value)?.unwrap_or(&Value::Null))?),
        [path] => Ok(lookup(path, value)?.map_or_else(|| "<no value>".to_owned(), go_text)),
        _ => bail!(
            "the template action {{{{{text}}}}} is not supported: use {{{{.Field.Field}}}} or {{{{json .Field}}}}"
        ),
    }
}

/// The value at `.A.B.C` in `value`; `None` if a field is missing.
fn lookup<'a>(path: &str, value: &'a Value) -> Result<Option<&'a Value>> {
    let Some(fields) = path.strip_prefix('.') else { bail!("{path:?} is not a field path: it starts with '.'") };
    let mut current = value;
    for field in fields.split('.').filter(|field| !field.is_empty()) {
        match current.get(field) {
            Some(next) => current = next,
            None => return Ok(None),
        }
    }
    Ok(Some(current))
}

/// A value as Go's `fmt` prints it.
fn go_text(value: &Value) -> String {
    match value {
        Value::Null => "<nil>".to_owned(),
        Value::String(text) => text.clone(),
        Value::Array(items) => format!("[{}]", items.iter().map(go_text).collect::<Vec<_>>().join(" ")),
        Value::Object(map) => {
            let mut entries: Vec<String> = map.iter().map(|(key, value)| format!("{key}:{}", go_text(value))).collect();
            entries.sort();
            format!("map[{}]", entries.join(" "))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_and_json_render_as_docker_prints_them() {
        let value = json!({"State": {"Pid": 4242, "Running": true}, "Config": {"Env": ["A=1", "B=2"]}, "Name": "/web"});
        assert_eq!(render("{{ .State.Pid }}", &value).unwrap(), "4242");
        assert_eq!(render("{{.Name}} {{.State.Running}}", &value).unwrap(), "/web true");
        assert_eq!(render("{{.Config.Env}}", &value).unwrap(), "[A=1 B=2]");
        assert_eq!(render("{{json .Config}}", &value).unwrap(), r#"{"Env":["A=1","B=2"]}"#);
        assert_eq!(render("{{.Nope}}", &value).unwrap(), "<no value>");
        assert!(render("{{ .State.Pid", &value).is_err());
    }
}
