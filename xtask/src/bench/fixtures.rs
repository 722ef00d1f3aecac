//! What the bench runs on: runc bundles of the host's busybox, and the
//! sample image's layer blobs, for the `tar -x` baseline of `image load`.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::Value;

use crate::process;

/// The applets a bundle's rootfs has, as links to busybox: `/bin/true` for the runs, `/bin/sleep` for a container that stays.
const APPLETS: [&str; 2] = ["true", "sleep"];

/// A runc bundle in `work/<name>` whose rootfs is busybox and whose process is `args`.
pub fn runc_bundle(work: &Path, name: &str, args: &[&str]) -> Result<PathBuf> {
    let bundle = work.join(name);
    let rootfs = bundle.join("rootfs");
    for dir in ["bin", "proc", "sys", "dev", "tmp", "etc"] {
        let dir = rootfs.join(dir);
        fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
    }
    let busybox = rootfs.join("bin/busybox");
    fs::copy("/bin/busybox", &busybox).with_context(|| format!("copy /bin/busybox to {}", busybox.display()))?;
    for applet in APPLETS {
        let link = rootfs.join("bin").join(applet);
        std::os::unix::fs::symlink("busybox", &link)
            .with_context(|| format!("symlink {} to busybox", link.display()))?;
    }
    let mut spec = process::command("runc", &["spec"]);
    spec.current_dir(&bundle);
    process::run(spec)?;
    let config = bundle.join("config.json");
    let text = fs::read_to_string(&config).with_context(|| format!("read {}", config.display()))?;
    let mut json: Value = serde_json::from_str(&text).with_context(|| format!("parse {}", config.display()))?;
    json["process"]["terminal"] = Value::Bool(false);
    json["process"]["args"] = serde_json::json!(args);
    fs::write(&config, serde_json::to_string_pretty(&json)?).with_context(|| format!("write {}", config.display()))?;
    Ok(bundle)
}

/// The gzipped layer blobs of the image in the OCI layout `layout`, bottom layer first.
pub fn layer_blobs(layout: &Path) -> Result<Vec<PathBuf>> {
    let blob = |digest: &Value| -> Result<PathBuf> {
        let digest = digest.as_str().context("a descriptor without a digest")?;
        let hex = digest.strip_prefix("sha256:").with_context(|| format!("not a sha256 digest: {digest}"))?;
        Ok(layout.join("blobs/sha256").join(hex))
    };
    let read = |path: &Path| -> Result<Value> {
        let text = fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parse {}", path.display()))
    };
    let index = read(&layout.join("index.json"))?;
    let manifest = read(&blob(&index["manifests"][0]["digest"])?)?;
    let layers = manifest["layers"].as_array().context("the manifest lists no layers")?;
    layers.iter().map(|layer| blob(&layer["digest"])).collect()
}
