//! OFD locations (`ST_Loc`): absolute from the package root (`/Doc_0/…`) or relative to the
//! directory of the file that names them.

use super::Package;
use super::package::is_plain_path;

/// The directory part of a package path (`""` for a file at the root).
pub(crate) fn dir_of(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..i])
}

/// The package path `loc` names when written in a file of directory `base_dir`: a leading
/// `/` starts at the root, `.` and `..` segments are applied, backslashes count as `/`.
/// `None` when it is empty, climbs above the root or is not a plain path.
pub(crate) fn resolve(base_dir: &str, loc: &str) -> Option<String> {
    let loc = loc.trim().replace('\\', "/");
    if loc.is_empty() {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    if !loc.starts_with('/') {
        parts.extend(base_dir.split('/').filter(|s| !s.is_empty()));
    }
    for seg in loc.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    let path = parts.join("/");
    is_plain_path(&path).then_some(path)
}

/// Like [`resolve`], tolerant of files in the wild: a relative location that names no file
/// from `base_dir` but does from the root resolves to the root's. `None` only when the
/// location is unusable; the path returned may still be absent from the package.
pub(crate) fn locate(package: &Package, base_dir: &str, loc: &str) -> Option<String> {
    let first = resolve(base_dir, loc)?;
    if package.get(&first).is_some() || base_dir.is_empty() {
        return Some(first);
    }
    match resolve("", loc) {
        Some(from_root) if package.get(&from_root).is_some() => Some(from_root),
        _ => Some(first),
    }
}

/// The absolute form written in signatures and `BaseLoc`s: `/` + the package path.
pub(crate) fn absolute(path: &str) -> String {
    format!("/{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_absolute_relative_and_dotted_locations() {
        assert_eq!(resolve("Doc_0", "Pages/Page_0/Content.xml").unwrap(), "Doc_0/Pages/Page_0/Content.xml");
        assert_eq!(
            resolve("Doc_0/Signs", "/Doc_0/Signs/Sign_0/Signature.xml").unwrap(),
            "Doc_0/Signs/Sign_0/Signature.xml"
        );
        assert_eq!(resolve("", "Doc_0/Document.xml").unwrap(), "Doc_0/Document.xml");
        assert_eq!(resolve("Doc_0/Signs", "../Res/./a.png").unwrap(), "Doc_0/Res/a.png");
        assert_eq!(resolve("Doc_0", "Res\\a.png").unwrap(), "Doc_0/Res/a.png");
        for bad in ["", "  ", "/", "../../x", "/../x", "a\u{1}b"] {
            assert_eq!(resolve("Doc_0", bad), None, "{bad:?}");
        }
        assert_eq!((dir_of("OFD.xml"), dir_of("Doc_0/Document.xml")), ("", "Doc_0"));
    }

    #[test]
    fn locate_falls_back_to_the_root_for_a_relative_location() {
        let mut p = Package::new();
        p.insert("Doc_0/Signs/Sign_0/Signature.xml", vec![]).unwrap();
        let sig = "Doc_0/Signs/Sign_0/Signature.xml";
        assert_eq!(locate(&p, "Doc_0/Signs", "Sign_0/Signature.xml").unwrap(), sig);
        assert_eq!(locate(&p, "Doc_0/Signs", sig).unwrap(), sig);
        assert_eq!(locate(&p, "Doc_0", "Nope.xml").unwrap(), "Doc_0/Nope.xml");
    }
}
