//! The `/etc/systemd/nspawn/NAME.nspawn` file: the settings `systemd-nspawn`
//! and `machinectl start` read for a machine, here the bridge its `host0`
//! link is joined to.

/// The file's text: join `bridge` (a veth whose container side is `host0`).
pub fn render(bridge: &str) -> String {
    format!(
        "# Written by nspawn-netd container create.\n\
         [Network]\n\
         Bridge={bridge}\n"
    )
}

/// The bridge a `.nspawn` file names (`Bridge=` in `[Network]`; the last one
/// wins, as in systemd's parser).
pub fn bridge(text: &str) -> Option<String> {
    let mut section = "";
    let mut found = None;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name;
        } else if section == "Network"
            && let Some((key, value)) = line.split_once('=')
            && key.trim() == "Bridge"
        {
            let value = value.trim();
            found = (!value.is_empty()).then(|| value.to_owned());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_reads_back_the_bridge() {
        let text = render("nat0");
        assert_eq!(
            text,
            "# Written by nspawn-netd container create.\n[Network]\nBridge=nat0\n"
        );
        assert_eq!(bridge(&text).as_deref(), Some("nat0"));
    }

    #[test]
    fn reads_only_the_network_section_and_the_last_value() {
        let text =
            "[Exec]\nBridge=no\n[Network]\n# Bridge=old\nBridge = br0\nBridge=br1\n[Files]\n";
        assert_eq!(bridge(text).as_deref(), Some("br1"));
        assert_eq!(bridge("[Network]\nVirtualEthernet=yes\n"), None);
        assert_eq!(bridge("[Network]\nBridge=\n"), None);
    }
}
