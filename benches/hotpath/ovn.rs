//! OVS smaps and OVN ctx structs, built in Rust in OVS's layout, and the
//! provider loaded behind the exported C vtable.

use super::*;

/// The options an LSP carries for `req` (OVN's own keys included, as the
/// Port_Binding options clone has them).
pub(crate) fn lsp_options(req: &Request) -> Vec<(String, String)> {
    let mut v = vec![
        ("requested-chassis".to_owned(), "dpu0".to_owned()),
        ("vif-plug-type".to_owned(), "representor".to_owned()),
        (
            "vif-plug:representor:pf-mac".to_owned(),
            req.pf_mac.to_string(),
        ),
        ("vif-plug-mtu-request".to_owned(), "9000".to_owned()),
    ];
    match req.function {
        Function::Pf => {}
        Function::Vf(n) => v.push(("vif-plug:representor:vf-num".to_owned(), n.to_string())),
        Function::Sf(n) => v.push(("vif-plug:representor:sf-num".to_owned(), n.to_string())),
    }
    v
}

/// The ctx_in structs of many lports, with everything they point at.
pub(crate) struct Lports {
    #[allow(dead_code)]
    pub(crate) smaps: Vec<OwnedSmap>,
    #[allow(dead_code)]
    pub(crate) names: Vec<CString>,
    pub(crate) ctx: Vec<vif_plug_port_ctx_in>,
}

pub(crate) fn build_lports(reqs: &[Request]) -> Lports {
    build_lports_named(reqs, "lsp")
}

pub(crate) fn build_lports_named(reqs: &[Request], prefix: &str) -> Lports {
    let mut smaps = Vec::with_capacity(reqs.len());
    let mut names = Vec::with_capacity(reqs.len());
    let mut ctx = Vec::with_capacity(reqs.len());
    for (i, r) in reqs.iter().enumerate() {
        let m = build_smap(&lsp_options(r));
        let name = CString::new(format!("{prefix}-{i:05}")).unwrap();
        ctx.push(ctx_in(&name, &m));
        smaps.push(m);
        names.push(name);
    }
    Lports { smaps, names, ctx }
}

/// The provider loaded through the vtable from a snapshot of `ports`.
pub(crate) struct Loaded {
    pub(crate) path: PathBuf,
}

impl Loaded {
    pub(crate) fn new(ports: &[DevlinkPort], tag: &str) -> Loaded {
        let path = std::env::temp_dir().join(format!(
            "ovn-vif-rs-bench-{}-{tag}-{}.snapshot",
            std::process::id(),
            ports.len()
        ));
        std::fs::write(&path, snapshot_text(ports)).expect("writing the snapshot");
        std::env::set_var(ovn_vif_rs::sources::ENV_SNAPSHOT, &path);
        let init = class().init.unwrap();
        // SAFETY: plain call of the library's own entry point.
        let rc = unsafe { init() };
        assert_eq!(rc, 0, "init failed");
        Loaded { path }
    }

    pub(crate) fn run(&self) -> bool {
        let run = class().run.unwrap();
        // SAFETY: `run` ignores its class argument; the pointer is the
        // library's own class.
        unsafe { run(class() as *const vif_plug_class as *mut vif_plug_class) }
    }
}

impl Drop for Loaded {
    fn drop(&mut self) {
        let destroy = class().destroy.unwrap();
        // SAFETY: plain call of the library's own entry point.
        unsafe { destroy() };
        let _ = std::fs::remove_file(&self.path);
    }
}

pub(crate) fn prepare(ctx: &vif_plug_port_ctx_in, out: &mut vif_plug_port_ctx_out) -> bool {
    let f = class().vif_plug_port_prepare.unwrap();
    // SAFETY: `ctx` points at live strings and smaps (owned by `Lports`),
    // `out` is a valid ctx_out whose name is NULL or from an earlier prepare.
    unsafe { f(ctx, out) }
}

pub(crate) fn ctx_destroy(ctx: &vif_plug_port_ctx_in, out: &mut vif_plug_port_ctx_out) {
    let f = class().vif_plug_port_ctx_destroy.unwrap();
    // SAFETY: as in `prepare`; frees the name prepare stored.
    unsafe { f(ctx, out) }
}
