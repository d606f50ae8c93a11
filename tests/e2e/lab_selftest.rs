//! The lab itself: links come up, containers reach the bridge, and nothing is
//! left behind.

use std::path::Path;

use netd_testkit::lab::Lab;

#[test]
fn a_container_reaches_the_bridge_and_drop_removes_everything() {
    let names;
    {
        let mut lab = Lab::new();
        let c = lab.container("a");
        c.add_host0_addr("192.168.26.50/24");
        c.run_ok(&["ping", "-c", "1", "-W", "5", "192.168.26.1"]);
        let inet = lab.internet();
        inet.run_ok(&["ping", "-c", "1", "-W", "5", "203.0.113.1"]);
        assert_eq!(
            std::fs::read_to_string(c.etc_dir().join("resolv.conf")).unwrap(),
            "nameserver 127.0.0.1\n"
        );
        names = [lab.host().name.clone(), c.name.clone(), inet.name.clone()];
    }
    for name in names {
        assert!(
            !Path::new("/run/netns").join(&name).exists(),
            "{name} left behind"
        );
        assert!(
            !Path::new("/etc/netns").join(&name).exists(),
            "/etc/netns/{name} left behind"
        );
    }
}
