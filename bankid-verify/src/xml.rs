//! Parsing the decoded signature with hard bounds, and reading the XML-DSig structure.

use roxmltree::{Document, Node, ParsingOptions};

use crate::error::VerifyError;

pub(crate) const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
pub(crate) const BANKID_NS: &str = "http://www.bankid.com/signature/v1.0.0/types";
pub(crate) const C14N_10: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
pub(crate) const SHA256_URI: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
pub(crate) const SHA1_URI: &str = "http://www.w3.org/2000/09/xmldsig#sha1";
pub(crate) const RSA_SHA256_URI: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
pub(crate) const RSA_SHA1_URI: &str = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
pub(crate) const ECDSA_SHA256_URI: &str = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256";

/// At most this many nodes (a genuine signature has about 60).
pub(crate) const MAX_NODES: u32 = 4096;
/// At most this deep (a genuine signature is 8 deep).
pub(crate) const MAX_DEPTH: usize = 32;
/// At most this many namespace declarations (a genuine signature has 4). Bounds the work of
/// resolving and canonicalizing namespaces, which grows with their square.
pub(crate) const MAX_NAMESPACE_DECLARATIONS: usize = 64;

/// Parses `xml` refusing DTDs (and so entities other than the predefined ones, and external
/// references), more than [`MAX_NODES`] nodes, more than [`MAX_NAMESPACE_DECLARATIONS`], and
/// nesting deeper than [`MAX_DEPTH`].
pub(crate) fn parse(xml: &str) -> Result<Document<'_>, VerifyError> {
    // Counted on the text before parsing (an over-estimate: `xmlns` in text counts too).
    if xml.matches("xmlns").count() > MAX_NAMESPACE_DECLARATIONS {
        return Err(VerifyError::XmlStructure("more than 64 namespace declarations"));
    }
    let opts = ParsingOptions { allow_dtd: false, nodes_limit: MAX_NODES };
    let doc = Document::parse_with_options(xml, opts).map_err(|e| match e {
        roxmltree::Error::DtdDetected => VerifyError::XmlDtd,
        roxmltree::Error::UnknownEntityReference(..)
        | roxmltree::Error::EntityReferenceLoop(_)
        | roxmltree::Error::MalformedEntityReference(_) => VerifyError::XmlEntity,
        roxmltree::Error::NodesLimitReached => VerifyError::XmlTooManyNodes { limit: MAX_NODES },
        other => VerifyError::XmlMalformed(other.to_string()),
    })?;
    // Depth, without recursion: an explicit stack bounded by the node count.
    let mut stack = vec![(doc.root(), 0usize)];
    while let Some((node, depth)) = stack.pop() {
        if depth > MAX_DEPTH {
            return Err(VerifyError::XmlTooDeep { limit: MAX_DEPTH });
        }
        stack.extend(node.children().filter(Node::is_element).map(|c| (c, depth + 1)));
    }
    Ok(doc)
}

/// Is `node` the element `name` in namespace `ns`?
pub(crate) fn is(node: Node<'_, '_>, ns: &str, name: &str) -> bool {
    node.is_element() && node.tag_name().name() == name && node.tag_name().namespace() == Some(ns)
}

/// The only child element `name` (namespace `ns`) of `parent`; `what` names it in the error.
pub(crate) fn only_child<'a, 'i>(
    parent: Node<'a, 'i>,
    ns: &str,
    name: &str,
    what: &'static str,
) -> Result<Node<'a, 'i>, VerifyError> {
    let mut found = parent.children().filter(|c| is(*c, ns, name));
    let first = found.next().ok_or(VerifyError::XmlStructure(what))?;
    if found.next().is_some() {
        return Err(VerifyError::XmlStructure(what));
    }
    Ok(first)
}

/// Like [`only_child`], but absent is `None` (twice is still an error).
pub(crate) fn optional_child<'a, 'i>(
    parent: Node<'a, 'i>,
    ns: &str,
    name: &str,
    what: &'static str,
) -> Result<Option<Node<'a, 'i>>, VerifyError> {
    let mut found = parent.children().filter(|c| is(*c, ns, name));
    let first = found.next();
    if found.next().is_some() {
        return Err(VerifyError::XmlStructure(what));
    }
    Ok(first)
}

/// The text content of an element that must hold only text (no child elements).
pub(crate) fn text_of<'a>(node: Node<'a, '_>, what: &'static str) -> Result<String, VerifyError> {
    let mut s = String::new();
    for c in node.children() {
        if c.is_element() {
            return Err(VerifyError::XmlStructure(what));
        }
        if let Some(t) = c.text().filter(|_| c.is_text()) {
            s.push_str(t);
        }
    }
    Ok(s)
}

/// Decodes base64 text in the XML, where line breaks and spaces may appear between groups.
pub(crate) fn b64_text(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let engine = &base64::engine::general_purpose::STANDARD;
    if !text.bytes().any(|b| b.is_ascii_whitespace()) {
        return engine.decode(text).ok();
    }
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    engine.decode(compact).ok()
}

/// The elements whose `Id` (or `ID`, `id`) attribute is `id`.
pub(crate) fn elements_with_id<'a, 'i>(doc: &'a Document<'i>, id: &str) -> Vec<Node<'a, 'i>> {
    doc.descendants()
        .filter(|n| {
            n.is_element()
                && n.attributes()
                    .any(|a| a.namespace().is_none() && matches!(a.name(), "Id" | "ID" | "id") && a.value() == id)
        })
        .collect()
}
