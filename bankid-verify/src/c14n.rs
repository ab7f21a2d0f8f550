//! Inclusive Canonical XML 1.0 (without comments) of a document subset: one element, its
//! descendants and its in-scope namespaces, as a same-document `URI="#id"` Reference selects it
//! (<https://www.w3.org/TR/2001/REC-xml-c14n-20010315>).
//!
//! The apex element carries every namespace in scope (what the subset includes through the
//! namespace axis) and the `xml:*` attributes inherited from its ancestors; a descendant
//! declares only the namespaces its parent does not already have with the same value, and
//! `xmlns=""` only when its parent has a non-empty default namespace and it has none. That last
//! rule is where libxml2's C14N of a non-root element goes wrong (it emits `xmlns=""` on
//! grandchildren), and taking the element out of a C14N of the whole document goes wrong on
//! the first rule (the re-declared `xmlns` on `KeyInfo` and `SignedInfo` disappears): the
//! genuine samples' tests pin both.
//!
//! Text is escaped (`&amp; &lt; &gt; &#xD;`), attribute values too (`&amp; &lt; &quot; &#x9;
//! &#xA; &#xD;`), attributes sorted by (namespace URI, local name) after the namespace
//! declarations sorted by prefix, empty elements written as start and end tag, comments
//! dropped, processing instructions kept. The parser has already replaced CDATA sections,
//! character and predefined entity references, normalized line ends and attribute values.

use roxmltree::{Node, NodeType};

use crate::error::VerifyError;

const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// How deep below the apex the canonicalizer goes (the parser's depth bound is lower; this one
/// guards the recursion on its own).
const MAX_DEPTH: usize = 64;

/// Appends the canonical form of the subset rooted at `apex` to `out`. `source` is the text the
/// document was parsed from (for the qualified names with their prefixes, which the tree does not
/// keep).
pub(crate) fn canonicalize(apex: Node<'_, '_>, source: &str, out: &mut Vec<u8>) -> Result<(), VerifyError> {
    if !apex.is_element() {
        return Err(VerifyError::XmlStructure("a Reference must select an element"));
    }
    element(apex, None, source, out, 0)
}

/// The namespaces in scope of `node` (without `xml`), with an empty default namespace dropped.
fn in_scope<'a>(node: Node<'a, '_>) -> Vec<(&'a str, &'a str)> {
    node.namespaces()
        .filter(|ns| ns.uri() != XML_NS)
        .map(|ns| (ns.name().unwrap_or(""), ns.uri()))
        .filter(|(prefix, uri)| !(prefix.is_empty() && uri.is_empty()))
        .collect()
}

/// The qualified name of an element as written in the source (`<qname ...`).
fn element_qname<'s>(node: Node<'_, '_>, source: &'s str) -> Result<&'s str, VerifyError> {
    let start = node.range().start + 1;
    let rest = source.get(start..).ok_or(VerifyError::XmlStructure("element outside its source"))?;
    let end = rest.find(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/').unwrap_or(rest.len());
    let qname = &rest[..end];
    let local = node.tag_name().name();
    let consistent = qname == local
        || (qname.len() > local.len() + 1
            && qname.ends_with(local)
            && qname.as_bytes()[qname.len() - local.len() - 1] == b':');
    if consistent { Ok(qname) } else { Err(VerifyError::XmlStructure("element name differs from its source")) }
}

fn element(
    node: Node<'_, '_>,
    parent_scope: Option<&[(&str, &str)]>,
    source: &str,
    out: &mut Vec<u8>,
    depth: usize,
) -> Result<(), VerifyError> {
    if depth > MAX_DEPTH {
        return Err(VerifyError::XmlTooDeep { limit: MAX_DEPTH });
    }
    let qname = element_qname(node, source)?;
    let scope = in_scope(node);

    // Namespace declarations to write.
    let mut decls: Vec<(&str, &str)> = match parent_scope {
        None => scope.clone(),
        Some(parent) => scope.iter().filter(|ns| !parent.contains(ns)).copied().collect(),
    };
    if let Some(parent) = parent_scope {
        let has_default = scope.iter().any(|(p, _)| p.is_empty());
        let parent_default = parent.iter().any(|(p, _)| p.is_empty());
        if parent_default && !has_default {
            decls.push(("", ""));
        }
    }
    decls.sort_unstable_by(|a, b| a.0.cmp(b.0));

    // Attributes, with the inherited xml:* ones on the apex.
    let mut attrs: Vec<(&str, &str, &str, &str)> = Vec::new(); // (ns uri, local, qname, value)
    for a in node.attributes() {
        let range = a.range_qname();
        let aq = source.get(range).ok_or(VerifyError::XmlStructure("attribute outside its source"))?;
        attrs.push((a.namespace().unwrap_or(""), a.name(), aq, a.value()));
    }
    if parent_scope.is_none() {
        for anc in node.ancestors().skip(1).filter(Node::is_element) {
            for a in anc.attributes().filter(|a| a.namespace() == Some(XML_NS)) {
                if !attrs.iter().any(|(ns, local, _, _)| *ns == XML_NS && *local == a.name()) {
                    // Always written with the reserved prefix.
                    let q = match a.name() {
                        "lang" => "xml:lang",
                        "space" => "xml:space",
                        "base" => "xml:base",
                        "id" => "xml:id",
                        _ => return Err(VerifyError::XmlStructure("unknown inherited xml: attribute")),
                    };
                    attrs.push((XML_NS, a.name(), q, a.value()));
                }
            }
        }
    }
    attrs.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));

    out.push(b'<');
    out.extend_from_slice(qname.as_bytes());
    for (prefix, uri) in &decls {
        out.extend_from_slice(b" xmlns");
        if !prefix.is_empty() {
            out.push(b':');
            out.extend_from_slice(prefix.as_bytes());
        }
        out.extend_from_slice(b"=\"");
        escape_attr(uri, out);
        out.push(b'"');
    }
    for (_, _, q, value) in &attrs {
        out.push(b' ');
        out.extend_from_slice(q.as_bytes());
        out.extend_from_slice(b"=\"");
        escape_attr(value, out);
        out.push(b'"');
    }
    out.push(b'>');
    for child in node.children() {
        match child.node_type() {
            NodeType::Element => element(child, Some(&scope), source, out, depth + 1)?,
            NodeType::Text => escape_text(child.text().unwrap_or(""), out),
            NodeType::PI => {
                if let Some(pi) = child.pi() {
                    out.extend_from_slice(b"<?");
                    out.extend_from_slice(pi.target.as_bytes());
                    if let Some(v) = pi.value.filter(|v| !v.is_empty()) {
                        out.push(b' ');
                        out.extend_from_slice(v.as_bytes());
                    }
                    out.extend_from_slice(b"?>");
                }
            }
            NodeType::Comment | NodeType::Root => {}
        }
    }
    out.extend_from_slice(b"</");
    out.extend_from_slice(qname.as_bytes());
    out.push(b'>');
    Ok(())
}

fn escape_text(s: &str, out: &mut Vec<u8>) {
    for b in s.bytes() {
        match b {
            b'&' => out.extend_from_slice(b"&amp;"),
            b'<' => out.extend_from_slice(b"&lt;"),
            b'>' => out.extend_from_slice(b"&gt;"),
            b'\r' => out.extend_from_slice(b"&#xD;"),
            _ => out.push(b),
        }
    }
}

fn escape_attr(s: &str, out: &mut Vec<u8>) {
    for b in s.bytes() {
        match b {
            b'&' => out.extend_from_slice(b"&amp;"),
            b'<' => out.extend_from_slice(b"&lt;"),
            b'"' => out.extend_from_slice(b"&quot;"),
            b'\t' => out.extend_from_slice(b"&#x9;"),
            b'\n' => out.extend_from_slice(b"&#xA;"),
            b'\r' => out.extend_from_slice(b"&#xD;"),
            _ => out.push(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c14n(xml: &str, id: &str) -> String {
        let doc = crate::xml::parse(xml).expect("parses");
        let node = doc.descendants().find(|n| n.attribute("Id") == Some(id)).expect("id");
        let mut out = Vec::new();
        canonicalize(node, xml, &mut out).expect("canonicalizes");
        String::from_utf8(out).expect("utf8")
    }

    #[test]
    fn subset_rules() {
        // In-scope namespaces land on the apex; the re-declared default stays; attributes are
        // sorted; empty elements get an end tag; comments go, PIs and escapes stay.
        let xml = "<r xmlns=\"urn:a\" xmlns:p=\"urn:p\" xml:lang=\"sv\"><e Id=\"x\" b='2' a=\"1&amp;&#9;\" p:z=\"3\">\
                   <c/><!-- no --><?pi  data?>t&lt;&#13;<d xmlns=\"\"><g/></d><c xmlns=\"urn:a\"/></e></r>";
        assert_eq!(
            c14n(xml, "x"),
            "<e xmlns=\"urn:a\" xmlns:p=\"urn:p\" Id=\"x\" a=\"1&amp;&#x9;\" b=\"2\" xml:lang=\"sv\" p:z=\"3\">\
             <c></c><?pi data?>t&lt;&#xD;<d xmlns=\"\"><g></g></d><c></c></e>"
        );
        // No spurious xmlns="" on a grandchild of an element without a default namespace.
        let xml = "<r xmlns=\"urn:a\"><o><s xmlns=\"urn:b\" Id=\"y\"><k><m/></k></s></o></r>";
        assert_eq!(c14n(xml, "y"), "<s xmlns=\"urn:b\" Id=\"y\"><k><m></m></k></s>");
        let xml = "<r xmlns=\"urn:a\"><s Id=\"z\"><k xmlns=\"\"><m/></k></s></r>";
        assert_eq!(c14n(xml, "z"), "<s xmlns=\"urn:a\" Id=\"z\"><k xmlns=\"\"><m></m></k></s>");
    }
}

#[cfg(test)]
mod genuine {
    use base64::Engine as _;
    use ring::digest::{SHA256, digest};

    use super::canonicalize;

    const SAMPLES: [&str; 3] = [
        include_str!("../tests/data/test-2016-t2v.json"),
        include_str!("../tests/data/test-2017-signicat.json"),
        include_str!("../tests/data/test-2018-annytab.json"),
    ];

    fn signature_xml(sample: &str) -> String {
        // The sample files are JSON; the signature is the one string value after "signature".
        let start = sample.find("\"signature\": \"").expect("signature key") + 14;
        let end = start + sample[start..].find('"').expect("end quote");
        let bytes = base64::engine::general_purpose::STANDARD.decode(&sample[start..end]).expect("base64");
        String::from_utf8(bytes).expect("utf8")
    }

    fn raw<'a>(xml: &'a str, open: &str, close: &str) -> &'a str {
        let i = xml.find(open).expect("open");
        let j = i + xml[i..].find(close).expect("close") + close.len();
        &xml[i..j]
    }

    /// BankID writes the referenced elements already canonical: our C14N of each subset must be
    /// exactly the raw bytes, and its SHA-256 the DigestValue in SignedInfo.
    #[test]
    fn reproduces_the_genuine_samples_byte_for_byte() {
        for sample in SAMPLES {
            let xml = signature_xml(sample);
            let doc = crate::xml::parse(&xml).expect("parses");
            for (tag, close) in [
                ("<SignedInfo", "</SignedInfo>"),
                ("<KeyInfo", "</KeyInfo>"),
                ("<bankIdSignedData", "</bankIdSignedData>"),
            ] {
                let name = &tag[1..];
                let node = doc.descendants().find(|n| n.tag_name().name() == name).expect("element");
                let mut out = Vec::new();
                canonicalize(node, &xml, &mut out).expect("canonicalizes");
                let expected = raw(&xml, tag, close);
                assert_eq!(String::from_utf8(out.clone()).expect("utf8"), expected, "{name}");
                if name != "SignedInfo" {
                    let d = base64::engine::general_purpose::STANDARD.encode(digest(&SHA256, &out));
                    assert!(xml.contains(&format!("<DigestValue>{d}</DigestValue>")), "{name} digest");
                }
            }
            // The two wrong ways give other digests: without KeyInfo's re-declared xmlns (a slice
            // of the whole document's C14N), and with libxml2's spurious xmlns="" on grandchildren.
            let key_info = raw(&xml, "<KeyInfo", "</KeyInfo>");
            let sliced = key_info.replacen(" xmlns=\"http://www.w3.org/2000/09/xmldsig#\"", "", 1);
            let libxml2 = key_info.replace("<X509Certificate>", "<X509Certificate xmlns=\"\">");
            for wrong in [sliced, libxml2] {
                let d = base64::engine::general_purpose::STANDARD.encode(digest(&SHA256, wrong.as_bytes()));
                assert!(!xml.contains(&d));
            }
        }
    }
}

#[cfg(test)]
mod idempotent {
    use proptest::prelude::*;

    use super::canonicalize;

    /// A generated element: name, namespace declarations, attributes, children.
    #[derive(Debug, Clone)]
    struct El {
        name: &'static str,
        default_ns: Option<&'static str>,
        p_ns: Option<&'static str>,
        attrs: Vec<(&'static str, String)>,
        children: Vec<Child>,
    }

    #[derive(Debug, Clone)]
    enum Child {
        El(El),
        Text(String),
        Comment,
        Pi,
    }

    fn text() -> impl Strategy<Value = String> {
        "[a-zå &<>\"'\r\n\t]{0,8}"
    }

    fn element(children: impl Strategy<Value = Vec<Child>>) -> impl Strategy<Value = El> {
        (
            prop::sample::select(vec!["a", "b", "p:c"]),
            prop::option::of(prop::sample::select(vec!["", "urn:a", "urn:b&amp;c"])),
            prop::option::of(prop::sample::select(vec!["urn:p", "urn:q"])),
            prop::sample::subsequence(vec!["x", "Y", "p:z", "xml:lang"], 0..=4),
            prop::collection::vec(text(), 4),
            children,
        )
            .prop_map(|(name, default_ns, p_ns, keys, values, children)| El {
                name,
                default_ns,
                p_ns,
                attrs: keys.into_iter().zip(values).collect(),
                children,
            })
    }

    fn tree() -> impl Strategy<Value = El> {
        let leaf = element(Just(Vec::new()));
        leaf.prop_recursive(4, 24, 4, |inner| {
            element(prop::collection::vec(
                prop_oneof![
                    inner.prop_map(Child::El),
                    text().prop_map(Child::Text),
                    Just(Child::Comment),
                    Just(Child::Pi),
                ],
                0..4,
            ))
        })
    }

    fn escape(s: &str, attr: bool) -> String {
        let mut out = String::new();
        for c in s.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '"' if attr => out.push_str("&quot;"),
                '\r' => out.push_str("&#13;"),
                '\t' if attr => out.push_str("&#9;"),
                '\n' if attr => out.push_str("&#xA;"),
                c => out.push(c),
            }
        }
        out
    }

    /// Serializes non-canonically: self-closing empty elements, attributes before declarations.
    fn write(el: &El, root: bool, out: &mut String) {
        out.push('<');
        out.push_str(el.name);
        for (k, v) in &el.attrs {
            out.push_str(&format!(" {k}=\"{}\"", escape(v, true)));
        }
        if root && el.p_ns.is_none() {
            out.push_str(" xmlns:p=\"urn:root-p\"");
        }
        if let Some(ns) = el.default_ns {
            out.push_str(&format!(" xmlns=\"{ns}\""));
        }
        if let Some(ns) = el.p_ns {
            out.push_str(&format!(" xmlns:p='{ns}'"));
        }
        if el.children.is_empty() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        for c in &el.children {
            match c {
                Child::El(e) => write(e, false, out),
                Child::Text(t) => out.push_str(&escape(t, false)),
                Child::Comment => out.push_str("<!-- c -->"),
                Child::Pi => out.push_str("<?pi d?>"),
            }
        }
        out.push_str(&format!("</{}>", el.name));
    }

    fn c14n_of(xml: &str, index: usize) -> Option<String> {
        let doc = crate::xml::parse(xml).ok()?;
        let el = doc.descendants().filter(roxmltree::Node::is_element).nth(index)?;
        let mut out = Vec::new();
        canonicalize(el, xml, &mut out).ok()?;
        String::from_utf8(out).ok()
    }

    proptest! {
        /// The canonical form of any element of any document is a document whose canonical form
        /// is itself: escaping, namespace and attribute rules are stable.
        #[test]
        fn canonical_forms_are_fixed_points(el in tree(), pick in 0usize..8) {
            let mut xml = String::new();
            write(&el, true, &mut xml);
            let count = crate::xml::parse(&xml).map(|d| d.descendants().filter(roxmltree::Node::is_element).count());
            let Ok(count) = count else {
                return Err(TestCaseError::fail(format!("generated XML does not parse: {xml}")));
            };
            let once = c14n_of(&xml, pick % count).expect("canonicalizes");
            let twice = c14n_of(&once, 0).expect("its canonical form parses and canonicalizes");
            prop_assert_eq!(&once, &twice, "from {}", xml);
        }
    }
}
