//! What a component imports, read from its binary before it is compiled. An import hintd does
//! not link would otherwise be found only by the linker, after a compile that takes seconds
//! for a Python or JavaScript component, and reported as a world mismatch; here it is refused
//! at once, by name.

/// The interfaces hintd links (`engine.rs`): WASI 0.2 as `wasmtime-wasi` and
/// `wasmtime-wasi-http` provide it, locked down per store, and the contract's imports. By
/// package, the version line a component's import must be on (0.x versions are compatible
/// within one minor), and the interfaces.
const PROVIDED: &[(&str, Option<&str>, &[&str])] = &[
    ("wasi:io", Some("0.2"), &["error", "poll", "streams"]),
    (
        "wasi:clocks",
        Some("0.2"),
        &["wall-clock", "monotonic-clock"],
    ),
    (
        "wasi:random",
        Some("0.2"),
        &["random", "insecure", "insecure-seed"],
    ),
    (
        "wasi:cli",
        Some("0.2"),
        &[
            "environment",
            "exit",
            "stdin",
            "stdout",
            "stderr",
            "terminal-input",
            "terminal-output",
            "terminal-stdin",
            "terminal-stdout",
            "terminal-stderr",
        ],
    ),
    ("wasi:filesystem", Some("0.2"), &["types", "preopens"]),
    (
        "wasi:sockets",
        Some("0.2"),
        &[
            "network",
            "instance-network",
            "udp",
            "udp-create-socket",
            "tcp",
            "tcp-create-socket",
            "ip-name-lookup",
        ],
    ),
    ("wasi:http", Some("0.2"), &["types", "outgoing-handler"]),
    // Every contract version is judged by the linker, which knows which it serves.
    (
        "hintd:provider",
        None,
        &["types", "log", "kv", "http", "config"],
    ),
];

/// A component binary whose import section could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unreadable imports: {0}")]
pub struct Unreadable(String);

/// The top-level import names of a component (nested modules and components are skipped:
/// their imports are satisfied inside it). `None` for a binary that is not a component.
pub fn imports(wasm: &[u8]) -> Result<Option<Vec<String>>, Unreadable> {
    use wasmparser::{Chunk, Encoding, Parser, Payload};
    let unreadable = |e: wasmparser::BinaryReaderError| Unreadable(e.to_string());
    let mut parser = Parser::new(0);
    let mut at = 0;
    let mut names = Vec::new();
    loop {
        let (payload, consumed) = match parser.parse(&wasm[at..], true).map_err(unreadable)? {
            Chunk::Parsed { payload, consumed } => (payload, consumed),
            Chunk::NeedMoreData(_) => {
                return Err(Unreadable("truncated binary".into()));
            }
        };
        at += consumed;
        match payload {
            Payload::Version { encoding, .. } if encoding != Encoding::Component => {
                return Ok(None);
            }
            Payload::ComponentImportSection(reader) => {
                for import in reader {
                    names.push(import.map_err(unreadable)?.name.name.to_string());
                }
            }
            // The parent parser has moved past the nested binary; so does the cursor.
            Payload::ModuleSection {
                unchecked_range, ..
            }
            | Payload::ComponentSection {
                unchecked_range, ..
            } => {
                if unchecked_range.end > wasm.len() {
                    return Err(Unreadable("truncated nested binary".into()));
                }
                at = unchecked_range.end;
            }
            Payload::End(_) => return Ok(Some(names)),
            _ => {}
        }
    }
}

/// Whether hintd links the import `name` (`wasi:http/types@0.2.3`, ...).
pub fn provided(name: &str) -> bool {
    let (path, version) = match name.split_once('@') {
        Some((path, version)) => (path, Some(version)),
        None => (name, None),
    };
    let Some((package, interface)) = path.split_once('/') else {
        return false;
    };
    PROVIDED.iter().any(|(p, line, interfaces)| {
        *p == package
            && interfaces.contains(&interface)
            && line.is_none_or(|line| {
                version.is_some_and(|v| {
                    v.strip_prefix(line)
                        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
                })
            })
    })
}

/// The first import of a component that hintd does not link. A binary that is not a
/// component, or whose imports cannot be read, has none here: compiling it gives the precise
/// error.
pub fn first_not_provided(wasm: &[u8]) -> Option<String> {
    let names = imports(wasm).ok()??;
    names.into_iter().find(|n| !provided(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linked_interfaces_are_provided_on_their_version_line() {
        assert!(provided("wasi:http/types@0.2.3"));
        assert!(provided("wasi:http/outgoing-handler@0.2.0"));
        assert!(provided("wasi:io/streams@0.2.12"));
        assert!(provided("hintd:provider/log@0.1.0"));
        assert!(!provided("wasi:http/types@0.3.0-rc-2025-09-16"));
        assert!(!provided("wasi:http/types@0.20.0"));
        assert!(!provided("wasi:http/incoming-handler@0.2.0"));
        assert!(!provided("wasi:keyvalue/store@0.2.0-draft"));
        assert!(!provided("acme:x/y"));
        assert!(!provided("wasi:io/streams"));
        assert!(!provided("plain-function"));
    }

    #[test]
    fn a_core_module_and_garbage_pass_to_the_compiler() {
        // `\0asm`, version 1: an empty core module.
        let module = b"\0asm\x01\0\0\0";
        assert_eq!(imports(module).unwrap(), None);
        assert_eq!(first_not_provided(module), None);
        assert_eq!(first_not_provided(b"not wasm"), None);
    }

    #[test]
    fn an_empty_component_imports_nothing() {
        // `\0asm`, component layer 1, version 0x0d.
        let component = b"\0asm\x0d\0\x01\0";
        assert_eq!(imports(component).unwrap(), Some(vec![]));
    }
}
