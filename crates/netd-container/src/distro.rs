//! Which tool bootstraps which distribution, and with what command line.
//!
//! Pure: [`BootstrapPlan::new`] turns the user's choices into an argv; the
//! caller runs it.

use std::ffi::OsString;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

/// Packages every Debian or Ubuntu container gets on top of debootstrap's
/// variant: the D-Bus broker that `machinectl`/`systemctl` talk to,
/// `systemd-container` for `machinectl shell`, and what the network setup
/// and checking it need: systemd as PID 1 (`systemd-sysv`; networkd is part
/// of the `systemd` package), `ip` (`iproute2`) and `ping`
/// (`iputils-ping`). The default variant has the last three already (they
/// are Priority: important); naming them keeps `minbase` images usable.
pub const DEBOOTSTRAP_PACKAGES: &[&str] = &[
    "dbus-broker",
    "systemd-container",
    "systemd-sysv",
    "iproute2",
    "iputils-ping",
];

/// Which package set debootstrap starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Variant {
    /// debootstrap's default: every package of Priority required and
    /// important, a system an operator finds familiar (`ip`, `ping`,
    /// `less`, `nano`, `cron`, `logrotate`, …).
    #[default]
    Default,
    /// `--variant=minbase`: Priority required and apt only, plus
    /// [`DEBOOTSTRAP_PACKAGES`] (for bookworm 129 packages instead of 169:
    /// no editor, pager, cron or logrotate).
    Minbase,
}

impl FromStr for Variant {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "default" => Ok(Variant::Default),
            "minbase" => Ok(Variant::Minbase),
            other => Err(format!(
                "unknown variant \"{other}\": expected default or minbase"
            )),
        }
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Variant::Default => "default",
            Variant::Minbase => "minbase",
        })
    }
}

/// The distributions `container create` can bootstrap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Distro {
    Debian,
    Ubuntu,
    Arch,
}

impl Distro {
    /// The release used when the user names none.
    pub fn default_suite(self) -> Option<&'static str> {
        match self {
            Distro::Debian => Some("bookworm"),
            Distro::Ubuntu => Some("noble"),
            Distro::Arch => None,
        }
    }

    /// The bootstrap tool and the Debian package that provides it.
    pub fn tool(self) -> (&'static str, &'static str) {
        match self {
            Distro::Debian | Distro::Ubuntu => ("debootstrap", "debootstrap"),
            Distro::Arch => ("pacstrap", "arch-install-scripts"),
        }
    }

    /// Archive components: Ubuntu splits its archive into `main` and
    /// `universe` (dbus-broker lives in universe); Debian has no `universe`.
    fn components(self) -> &'static str {
        match self {
            Distro::Debian => "main",
            Distro::Ubuntu => "main,universe",
            Distro::Arch => "",
        }
    }
}

impl FromStr for Distro {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "debian" => Ok(Distro::Debian),
            "ubuntu" => Ok(Distro::Ubuntu),
            "arch" | "archlinux" => Ok(Distro::Arch),
            other => Err(format!(
                "unknown distribution \"{other}\": expected debian, ubuntu or arch"
            )),
        }
    }
}

impl fmt::Display for Distro {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Distro::Debian => "debian",
            Distro::Ubuntu => "ubuntu",
            Distro::Arch => "arch",
        })
    }
}

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootstrapRequest {
    pub distro: Distro,
    /// The release (`bookworm`, `noble`); `None` for the default one.
    pub suite: Option<String>,
    /// The archive to download from; `None` leaves the tool's own default.
    pub mirror: Option<String>,
    /// debootstrap's package set (Debian and Ubuntu only).
    pub variant: Variant,
}

/// A request that cannot be carried out as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error(
        "--suite does not apply to arch (a rolling release); drop it or pick --distro debian|ubuntu"
    )]
    SuiteForArch,
    #[error(
        "--mirror does not apply to arch: pacstrap downloads from the host's /etc/pacman.d/mirrorlist"
    )]
    MirrorForArch,
    #[error("--variant minbase does not apply to arch: pacstrap installs the base package group")]
    VariantForArch,
    #[error("--mirror {0:?} is not an http://, https://, ftp:// or file:// URL")]
    BadMirror(String),
}

/// The bootstrap command to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootstrapPlan {
    pub distro: Distro,
    /// The tool (`debootstrap`, `pacstrap`), looked up in `PATH`.
    pub program: String,
    /// Its arguments, the target directory among them.
    pub args: Vec<OsString>,
}

impl BootstrapPlan {
    /// The command that bootstraps `request` into `target` (which must not
    /// exist yet for debootstrap to create it; pacstrap wants it to exist).
    pub fn new(request: &BootstrapRequest, target: &Path) -> Result<BootstrapPlan, PlanError> {
        if let Some(mirror) = &request.mirror {
            let ok = ["http://", "https://", "ftp://", "file://"]
                .iter()
                .any(|p| mirror.starts_with(p) && mirror.len() > p.len());
            if !ok {
                return Err(PlanError::BadMirror(mirror.clone()));
            }
        }
        let (program, _) = request.distro.tool();
        let mut args: Vec<OsString> = Vec::new();
        match request.distro {
            Distro::Debian | Distro::Ubuntu => {
                let suite = request
                    .suite
                    .as_deref()
                    .or(request.distro.default_suite())
                    .unwrap_or_default();
                match request.variant {
                    // The default variant is what debootstrap does unasked.
                    Variant::Default => {}
                    Variant::Minbase => args.push("--variant=minbase".into()),
                }
                args.push(format!("--include={}", DEBOOTSTRAP_PACKAGES.join(",")).into());
                args.push(format!("--components={}", request.distro.components()).into());
                args.push(suite.into());
                args.push(target.into());
                if let Some(mirror) = &request.mirror {
                    args.push(mirror.into());
                }
            }
            Distro::Arch => {
                if request.suite.is_some() {
                    return Err(PlanError::SuiteForArch);
                }
                if request.mirror.is_some() {
                    return Err(PlanError::MirrorForArch);
                }
                if request.variant != Variant::Default {
                    return Err(PlanError::VariantForArch);
                }
                // -K: a fresh pacman keyring inside the target; -c: use the
                // host's package cache.
                args.extend(["-K".into(), "-c".into(), target.into(), "base".into()]);
            }
        }
        Ok(BootstrapPlan {
            distro: request.distro,
            program: program.to_owned(),
            args,
        })
    }

    /// Whether the tool creates the target itself (debootstrap) or needs it
    /// to exist first (pacstrap).
    pub fn creates_target(&self) -> bool {
        self.distro != Distro::Arch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(distro: Distro, suite: Option<&str>, mirror: Option<&str>) -> BootstrapRequest {
        BootstrapRequest {
            distro,
            suite: suite.map(Into::into),
            mirror: mirror.map(Into::into),
            variant: Variant::Default,
        }
    }

    fn argv(req: &BootstrapRequest) -> Vec<String> {
        let plan = BootstrapPlan::new(req, Path::new("/m/web")).unwrap();
        std::iter::once(plan.program.clone())
            .chain(plan.args.iter().map(|a| a.to_string_lossy().into_owned()))
            .collect()
    }

    fn plan(distro: Distro, suite: Option<&str>, mirror: Option<&str>) -> Vec<String> {
        argv(&request(distro, suite, mirror))
    }

    const INCLUDE: &str =
        "--include=dbus-broker,systemd-container,systemd-sysv,iproute2,iputils-ping";

    #[test]
    fn debian_defaults_to_bookworm_main_the_default_variant_and_the_tools_own_mirror() {
        assert_eq!(
            plan(Distro::Debian, None, None),
            [
                "debootstrap",
                INCLUDE,
                "--components=main",
                "bookworm",
                "/m/web"
            ]
        );
    }

    #[test]
    fn minbase_is_asked_for() {
        let mut req = request(Distro::Debian, None, None);
        req.variant = Variant::Minbase;
        assert_eq!(
            argv(&req),
            [
                "debootstrap",
                "--variant=minbase",
                INCLUDE,
                "--components=main",
                "bookworm",
                "/m/web"
            ]
        );
        assert_eq!("minbase".parse(), Ok(Variant::Minbase));
        assert_eq!("default".parse(), Ok(Variant::Default));
        assert!("buildd".parse::<Variant>().unwrap_err().contains("buildd"));
    }

    #[test]
    fn ubuntu_gets_universe_and_the_mirror_goes_last() {
        assert_eq!(
            plan(
                Distro::Ubuntu,
                Some("jammy"),
                Some("http://mirror.example/ubuntu")
            ),
            [
                "debootstrap",
                INCLUDE,
                "--components=main,universe",
                "jammy",
                "/m/web",
                "http://mirror.example/ubuntu"
            ]
        );
        assert_eq!(plan(Distro::Ubuntu, None, None)[3], "noble");
    }

    #[test]
    fn keyring_checks_stay_on() {
        for d in [Distro::Debian, Distro::Ubuntu] {
            let argv = plan(d, None, None);
            assert!(!argv.iter().any(|a| a.contains("no-check-gpg")), "{argv:?}");
        }
    }

    #[test]
    fn arch_uses_pacstrap_and_refuses_suite_mirror_and_variant() {
        assert_eq!(
            plan(Distro::Arch, None, None),
            ["pacstrap", "-K", "-c", "/m/web", "base"]
        );
        let new = |req: &BootstrapRequest| BootstrapPlan::new(req, Path::new("/m"));
        assert_eq!(
            new(&request(Distro::Arch, Some("x"), None)),
            Err(PlanError::SuiteForArch)
        );
        assert_eq!(
            new(&request(Distro::Arch, None, Some("http://m/"))),
            Err(PlanError::MirrorForArch)
        );
        let mut minbase = request(Distro::Arch, None, None);
        minbase.variant = Variant::Minbase;
        assert_eq!(new(&minbase), Err(PlanError::VariantForArch));
    }

    #[test]
    fn a_mirror_must_be_a_url() {
        let req = request(Distro::Debian, None, Some("deb.example"));
        assert!(matches!(
            BootstrapPlan::new(&req, Path::new("/m")),
            Err(PlanError::BadMirror(_))
        ));
    }

    #[test]
    fn distro_names_parse() {
        assert_eq!("debian".parse(), Ok(Distro::Debian));
        assert_eq!("archlinux".parse(), Ok(Distro::Arch));
        assert!("fedora".parse::<Distro>().unwrap_err().contains("fedora"));
        assert_eq!(Distro::Arch.tool(), ("pacstrap", "arch-install-scripts"));
    }
}
