//! `container remove`: the rootfs (and the link to it), the `.nspawn`
//! file and any run-state files; refused while the container runs.

use anyhow::{Context, bail};
use netd_container::{cleanup, machines};

use super::{Dirs, confirm, existing_machine, require_root};

pub(super) fn run(dirs: &Dirs, name: &str, yes: bool) -> anyhow::Result<()> {
    require_root("container remove")?;
    let machine = existing_machine(dirs, name)?;
    if machines::is_running(&machine.root) {
        bail!("{name} is running; stop it first (nspawn-netd container stop {name})");
    }
    let link = dirs.machines_dir.join(name);
    let machines_dir = dirs
        .machines_dir
        .canonicalize()
        .unwrap_or(dirs.machines_dir.clone());
    if machines_dir.starts_with(&machine.root) {
        bail!(
            "{} resolves to {}, which holds the machines directory itself; not removing it",
            link.display(),
            machine.root.display()
        );
    }
    let nspawn_file = dirs.nspawn_file(name);
    if !yes
        && !confirm(&format!(
            "remove {name}: {} and {}?",
            machine.root.display(),
            nspawn_file.display()
        ))?
    {
        bail!("not removed");
    }
    cleanup::remove_rootfs(&machine.root)
        .with_context(|| format!("removing {}", machine.root.display()))?;
    if std::fs::symlink_metadata(&link).is_ok_and(|m| m.file_type().is_symlink()) {
        std::fs::remove_file(&link).with_context(|| format!("removing {}", link.display()))?;
    }
    for path in [nspawn_file, dirs.pid_file(name), dirs.console_log(name)] {
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e).with_context(|| format!("removing {}", path.display()));
            }
            _ => {}
        }
    }
    println!("removed {name}");
    Ok(())
}
