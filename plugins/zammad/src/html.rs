//! Plain text from the HTML of an e-mail article: what the classifier reads (tags and styles
//! are noise to it) and what an agent would see, without a browser engine.
//!
//! Block elements and `<br>` become line breaks, `<script>`/`<style>`/`<head>` are dropped with
//! their content, entities are decoded (named ones mail clients use, and numeric ones), and runs
//! of blank lines and spaces are collapsed.

/// The text of `html`.
pub fn to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        push_text(&mut out, &rest[..start]);
        let Some(end) = rest[start..].find('>') else {
            // A lone `<` is text.
            push_text(&mut out, &rest[start..]);
            rest = "";
            break;
        };
        let tag = &rest[start + 1..start + end];
        rest = &rest[start + end + 1..];
        let name = tag_name(tag);
        if let Some(skip) = ["script", "style", "head"].iter().find(|s| **s == name) {
            // Everything up to the closing tag goes.
            let close = format!("</{skip}");
            match find_ignore_case(rest, &close) {
                Some(at) => {
                    rest = &rest[at..];
                    rest = rest.find('>').map_or("", |gt| &rest[gt + 1..]);
                }
                None => rest = "",
            }
            continue;
        }
        if BREAKS.contains(&name.as_str()) {
            out.push('\n');
        }
    }
    push_text(&mut out, rest);
    tidy(&out)
}

/// Elements that start a new line.
const BREAKS: &[&str] = &[
    "br",
    "p",
    "/p",
    "div",
    "/div",
    "li",
    "tr",
    "/tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "/h1",
    "/h2",
    "/h3",
    "/h4",
    "/h5",
    "/h6",
    "blockquote",
    "/blockquote",
    "ul",
    "/ul",
    "ol",
    "/ol",
    "table",
    "/table",
    "hr",
];

/// `p` of `p class="x"`, `/div` of `/div`, `br` of `br/`, lower case.
fn tag_name(tag: &str) -> String {
    let tag = tag.trim_start();
    let (slash, body) = match tag.strip_prefix('/') {
        Some(b) => ("/", b),
        None => ("", tag),
    };
    let name: String = body
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    format!("{slash}{}", name.to_ascii_lowercase())
}

fn find_ignore_case(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .to_ascii_lowercase()
        .find(&needle.to_ascii_lowercase())
}

/// Appends text between tags with entities decoded; source line breaks are only whitespace.
fn push_text(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        push_spaced(out, &rest[..amp]);
        let after = &rest[amp + 1..];
        match after.find(';').filter(|&semi| semi <= 10) {
            Some(semi) => match entity(&after[..semi]) {
                Some(c) => {
                    out.push(c);
                    rest = &after[semi + 1..];
                }
                None => {
                    out.push('&');
                    rest = after;
                }
            },
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    push_spaced(out, rest);
}

fn push_spaced(out: &mut String, text: &str) {
    for c in text.chars() {
        out.push(if c == '\n' || c == '\r' || c == '\t' {
            ' '
        } else {
            c
        });
    }
}

fn entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(code);
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "auml" => 'ä',
        "ouml" => 'ö',
        "uuml" => 'ü',
        "Auml" => 'Ä',
        "Ouml" => 'Ö',
        "Uuml" => 'Ü',
        "szlig" => 'ß',
        "eacute" => 'é',
        "egrave" => 'è',
        "agrave" => 'à',
        "ccedil" => 'ç',
        "euro" => '€',
        "hellip" => '…',
        "ndash" => '–',
        "mdash" => '—',
        "laquo" => '«',
        "raquo" => '»',
        "bdquo" => '„',
        "ldquo" => '“',
        "rdquo" => '”',
        "lsquo" => '‘',
        "rsquo" => '’',
        _ => return None,
    })
}

/// Trims every line, collapses runs of spaces and of blank lines.
fn tidy(text: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    for line in text.split('\n') {
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() && lines.last().is_none_or(|l| l.is_empty()) {
            continue;
        }
        lines.push(line);
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::to_text;

    #[test]
    fn paragraphs_breaks_and_entities() {
        let html =
            "<div>Hallo,<br>meine Karte&nbsp;ist gesperrt &amp; ich kann nicht zahlen.</div>\
                    <p>Gr&uuml;&szlig;e<br/>Anna &#8211; &#x263A;</p>";
        assert_eq!(
            to_text(html),
            "Hallo,\nmeine Karte ist gesperrt & ich kann nicht zahlen.\n\nGrüße\nAnna – ☺"
        );
    }

    #[test]
    fn styles_scripts_and_heads_are_dropped_with_their_content() {
        let html = "<html><head><title>x</title><style>p{color:red}</style></head>\
                    <body><SCRIPT>alert(1)</SCRIPT><p>Where is my card?</p></body></html>";
        assert_eq!(to_text(html), "Where is my card?");
    }

    #[test]
    fn source_newlines_are_spaces_and_stray_markup_is_text() {
        assert_eq!(to_text("one\ntwo  three"), "one two three");
        assert_eq!(to_text("a < b & c"), "a < b & c");
        assert_eq!(to_text("&unknown; &amp"), "&unknown; &amp");
        assert_eq!(to_text(""), "");
    }
}
