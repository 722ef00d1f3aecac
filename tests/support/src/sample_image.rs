//! The sample image every chapter from 3 on runs: `busybox:latest`, as an OCI image layout.
//!
//! Built from the host's static busybox (Debian's `busybox-static`), with no
//! registry and no Docker. It mirrors the lesson's Flask app with a shell
//! script, and is what this Dockerfile would build:
//!
//! ```text
//! FROM scratch
//! ADD rootfs /           # layer 1: /bin/busybox and its applets, /etc/passwd, /etc/group, /etc/motd
//! WORKDIR /app
//! COPY hello /app/       # layer 2: the app
//! RUN rm /etc/motd       # layer 3: only a whiteout, etc/.wh.motd
//! EXPOSE 80
//! ENV NAME World
//! CMD ["./hello"]
//! ```
//!
//! `hello` prints the lesson's page: `<h3>Hello World!</h3><b>Hostname:</b> 4ddf4638572d<br/>`.
//! From chapter 4 on, `helloworld:latest` serves that page over HTTP: the
//! sample image, plus `/app/www/cgi-bin/index.cgi` (`examples/helloworld`),
//! run by busybox's `httpd` on port 80, as the lesson's Flask app is.
//! Every byte is deterministic (fixed mtimes, sorted entries, gzip without a
//! timestamp), so the digests, and the image id, are the same on every
//! machine with the same busybox. `cargo xtask image` writes both to a
//! directory; the suites share one copy of each through [`sample_image`]
//! and [`helloworld_image`].

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;
use std::sync::OnceLock;

use anyhow::{Context, Result, bail};
use flate2::{Compression, GzBuilder};
use oci_spec::image::{
    ConfigBuilder, Descriptor, Digest, HistoryBuilder, ImageConfigurationBuilder, ImageIndexBuilder,
    ImageManifestBuilder, MediaType, OciLayoutBuilder, RootFsBuilder,
};
use sha2::{Digest as _, Sha256};

/// The name the sample image loads as.
pub const SAMPLE_IMAGE: &str = "busybox:latest";

/// The name the lesson's app loads as.
pub const HELLOWORLD_IMAGE: &str = "helloworld:latest";

/// The lesson's page, as a CGI script for busybox's `httpd`: `examples/helloworld/www/cgi-bin/index.cgi`.
pub const HELLOWORLD_CGI: &str = include_str!("../../../examples/helloworld/www/cgi-bin/index.cgi");

/// Where the static busybox comes from.
pub const HOST_BUSYBOX: &str = "/bin/busybox";

/// The page `hello` prints, before the shell expands it.
pub const HELLO_SCRIPT: &str = "#!/bin/sh\necho \"<h3>Hello ${NAME:-world}!</h3><b>Hostname:</b> $(hostname)<br/>\"\n";

/// Every file's mtime, and the image's creation time: 2018-09-10T08:59:43Z.
const EPOCH: u64 = 1_536_569_983;
const CREATED: &str = "2018-09-10T08:59:43Z";

/// The sample image's layout directory, built on first use and shared by every test process.
///
/// Its bytes depend only on the host's busybox, so it is kept under the
/// system's temporary directory, keyed by busybox's digest, and built at most
/// once: into a fresh directory, renamed into place when complete. Its
/// directory is named `busybox`, so `image load` names it `busybox:latest`.
pub fn sample_image() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| cached("busybox", build_sample_image))
}

/// The lesson's app's layout directory, `helloworld:latest`, built on first use like [`sample_image`].
pub fn helloworld_image() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| cached("helloworld", build_helloworld_image))
}

/// The layout `name`, in a cache keyed by busybox's digest, built by `build` once for every test process.
fn cached(name: &str, build: fn(&Path) -> Result<()>) -> PathBuf {
    let busybox = fs::read(HOST_BUSYBOX)
        .unwrap_or_else(|err| panic!("this test needs {HOST_BUSYBOX}: `sudo apt-get install busybox-static` ({err})"));
    let key = format!("{}{}", &sha256(&busybox)[7..19], &sha256(HELLOWORLD_CGI.as_bytes())[7..11]);
    let cache = std::env::temp_dir().join(format!("rebox-sample-image-{key}"));
    let dir = cache.join(name);
    if !dir.join("index.json").exists() {
        fs::create_dir_all(&cache).expect("create the sample image cache");
        let staging = tempfile::Builder::new().prefix(".build-").tempdir_in(&cache).expect("create a build directory");
        build(&staging.path().join(name)).unwrap_or_else(|err| panic!("build the sample image {name}: {err:#}"));
        // Another test process may have won the race: its image is byte for byte the same.
        fs::rename(staging.path().join(name), &dir).ok();
    }
    dir
}

/// Writes the sample image as an OCI image layout into `dir` (created if needed).
pub fn build_sample_image(dir: &Path) -> Result<()> {
    let busybox = fs::read(HOST_BUSYBOX)
        .with_context(|| format!("read {HOST_BUSYBOX}: install it with `sudo apt-get install busybox-static`"))?;
    let layers = [base_layer(&busybox, &applets()?)?, app_layer()?, whiteout_layer()?];
    write_layout(dir, SAMPLE_IMAGE, &layers, &BUSYBOX_HISTORY, &["./hello"])
}

/// Writes the lesson's app, `helloworld:latest`, as an OCI image layout into `dir`.
///
/// It is the sample image with one more layer, `/app/www/cgi-bin/index.cgi`
/// (from `examples/helloworld`), served on port 80 by busybox's `httpd`:
/// the lesson's page, for `curl localhost:4000` through `-p 4000:80`.
pub fn build_helloworld_image(dir: &Path) -> Result<()> {
    let busybox = fs::read(HOST_BUSYBOX)
        .with_context(|| format!("read {HOST_BUSYBOX}: install it with `sudo apt-get install busybox-static`"))?;
    let layers = [base_layer(&busybox, &applets()?)?, app_layer()?, whiteout_layer()?, www_layer()?];
    let history: Vec<(&str, bool)> =
        BUSYBOX_HISTORY[..BUSYBOX_HISTORY.len() - 1].iter().copied().chain(HELLOWORLD_HISTORY).collect();
    write_layout(dir, HELLOWORLD_IMAGE, &layers, &history, &HELLOWORLD_CMD)
}

/// The sample image's history: what each step of its Dockerfile did, and whether it made an empty layer.
const BUSYBOX_HISTORY: [(&str, bool); 7] = [
    ("/bin/sh -c #(nop) ADD rootfs / # busybox, its applets, /etc/passwd, /etc/group, /etc/motd", false),
    ("/bin/sh -c #(nop) WORKDIR /app", true),
    ("/bin/sh -c #(nop) COPY hello /app/", false),
    ("/bin/sh -c rm /etc/motd", false),
    ("/bin/sh -c #(nop) EXPOSE 80", true),
    ("/bin/sh -c #(nop) ENV NAME=World", true),
    ("/bin/sh -c #(nop) CMD [\"./hello\"]", true),
];

/// What `helloworld` adds, FROM the sample image.
const HELLOWORLD_HISTORY: [(&str, bool); 2] = [
    ("/bin/sh -c #(nop) ADD www /app/www # the page, a CGI script", false),
    ("/bin/sh -c #(nop) CMD [\"httpd\", \"-f\", \"-v\", \"-p\", \"80\", \"-h\", \"/app/www\"]", true),
];

/// `helloworld`'s command: busybox's web server, in the foreground, on port 80 (`-v` makes it report
/// errors on its standard error; only `-vv` would log each request, so `logs` of it stays empty).
const HELLOWORLD_CMD: [&str; 7] = ["httpd", "-f", "-v", "-p", "80", "-h", "/app/www"];

/// Writes an OCI image layout of one image, `name`, with `layers` (bottom first), `history` and `cmd`.
fn write_layout(dir: &Path, name: &str, layers: &[Vec<u8>], history: &[(&str, bool)], cmd: &[&str]) -> Result<()> {
    let blobs = dir.join("blobs/sha256");
    fs::create_dir_all(&blobs).with_context(|| format!("create {}", blobs.display()))?;
    let mut descriptors = Vec::new();
    let mut diff_ids = Vec::new();
    for tar in layers {
        diff_ids.push(sha256(tar));
        let gz = gzip(tar)?;
        descriptors.push(write_blob(&blobs, MediaType::ImageLayerGzip, &gz)?);
    }
    let history = history
        .iter()
        .map(|(created_by, empty)| {
            let entry = HistoryBuilder::default().created(CREATED).created_by(*created_by);
            if *empty { entry.empty_layer(true).build() } else { entry.build() }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let config = ConfigBuilder::default()
        .env(vec![
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_owned(),
            "NAME=World".to_owned(),
        ])
        .working_dir("/app")
        .cmd(cmd.iter().map(|word| (*word).to_owned()).collect::<Vec<_>>())
        .exposed_ports(vec!["80/tcp".to_owned()])
        .build()?;
    let image = ImageConfigurationBuilder::default()
        .created(CREATED)
        .architecture(oci_spec::image::Arch::Amd64)
        .os(oci_spec::image::Os::Linux)
        .config(config)
        .rootfs(RootFsBuilder::default().typ("layers").diff_ids(diff_ids).build()?)
        .history(history)
        .build()?;
    let config_blob = write_blob(&blobs, MediaType::ImageConfig, image.to_string()?.as_bytes())?;

    let manifest = ImageManifestBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageManifest)
        .config(config_blob)
        .layers(descriptors)
        .build()?;
    let mut manifest_desc = write_blob(&blobs, MediaType::ImageManifest, manifest.to_string()?.as_bytes())?;
    let tag = name.rsplit_once(':').map_or("latest", |(_, tag)| tag);
    manifest_desc.set_annotations(Some(
        [
            ("io.containerd.image.name".to_owned(), name.to_owned()),
            ("org.opencontainers.image.ref.name".to_owned(), tag.to_owned()),
        ]
        .into_iter()
        .collect(),
    ));
    let index = ImageIndexBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageIndex)
        .manifests(vec![manifest_desc])
        .build()?;
    write_file(&dir.join("index.json"), index.to_string()?.as_bytes())?;
    let layout = OciLayoutBuilder::default().image_layout_version("1.0.0").build()?;
    write_file(&dir.join("oci-layout"), layout.to_string()?.as_bytes())?;
    Ok(())
}

/// The applet names of the host's busybox, sorted, without `busybox` itself.
fn applets() -> Result<Vec<String>> {
    let output =
        Command::new(HOST_BUSYBOX).arg("--list").output().with_context(|| format!("run {HOST_BUSYBOX} --list"))?;
    if !output.status.success() {
        bail!("{HOST_BUSYBOX} --list failed");
    }
    let mut names: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|name| !name.is_empty() && !name.contains('/') && *name != "busybox")
        .map(str::to_owned)
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

/// A deterministic layer tar, built entry by entry.
struct Layer(tar::Builder<Vec<u8>>);

impl Layer {
    fn new() -> Self {
        Self(tar::Builder::new(Vec::new()))
    }

    fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
        let mut header = tar::Header::new_ustar();
        header.set_entry_type(kind);
        header.set_mode(mode);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(EPOCH);
        header.set_size(size);
        header
    }

    fn dir(&mut self, path: &str, mode: u32) -> Result<()> {
        let mut header = Self::header(tar::EntryType::Directory, mode, 0);
        Ok(self.0.append_data(&mut header, path, &[][..])?)
    }

    fn file(&mut self, path: &str, mode: u32, data: &[u8]) -> Result<()> {
        let mut header = Self::header(tar::EntryType::Regular, mode, data.len() as u64);
        Ok(self.0.append_data(&mut header, path, data)?)
    }

    fn hard_link(&mut self, path: &str, target: &str) -> Result<()> {
        let mut header = Self::header(tar::EntryType::Link, 0o755, 0);
        Ok(self.0.append_link(&mut header, path, target)?)
    }

    fn finish(self) -> Result<Vec<u8>> {
        Ok(self.0.into_inner()?)
    }
}

fn base_layer(busybox: &[u8], applets: &[String]) -> Result<Vec<u8>> {
    let mut layer = Layer::new();
    layer.dir("bin/", 0o755)?;
    layer.file("bin/busybox", 0o755, busybox)?;
    for applet in applets {
        // Hard links, as in Docker's own busybox image: one file, many names.
        layer.hard_link(&format!("bin/{applet}"), "bin/busybox")?;
    }
    layer.dir("dev/", 0o755)?;
    layer.dir("etc/", 0o755)?;
    layer.file("etc/group", 0o644, b"root:x:0:\ndaemon:x:1:\ntty:x:5:\nnogroup:x:65534:\n")?;
    layer.file("etc/motd", 0o644, b"Welcome to the rebox busybox image.\n")?;
    layer.file(
        "etc/passwd",
        0o644,
        b"root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nnobody:x:65534:65534:nobody:/home:/bin/false\n",
    )?;
    for (dir, mode) in [("home/", 0o755), ("proc/", 0o555), ("root/", 0o700), ("sys/", 0o555), ("tmp/", 0o1777)] {
        layer.dir(dir, mode)?;
    }
    layer.dir("usr/", 0o755)?;
    layer.dir("var/", 0o755)?;
    layer.finish()
}

fn app_layer() -> Result<Vec<u8>> {
    let mut layer = Layer::new();
    layer.dir("app/", 0o755)?;
    layer.file("app/hello", 0o755, HELLO_SCRIPT.as_bytes())?;
    layer.finish()
}

fn www_layer() -> Result<Vec<u8>> {
    let mut layer = Layer::new();
    layer.dir("app/", 0o755)?;
    layer.dir("app/www/", 0o755)?;
    layer.dir("app/www/cgi-bin/", 0o755)?;
    layer.file("app/www/cgi-bin/index.cgi", 0o755, HELLOWORLD_CGI.as_bytes())?;
    layer.finish()
}

fn whiteout_layer() -> Result<Vec<u8>> {
    let mut layer = Layer::new();
    layer.dir("etc/", 0o755)?;
    layer.file("etc/.wh.motd", 0o644, b"")?;
    layer.finish()
}

fn gzip(data: &[u8]) -> Result<Vec<u8>> {
    let mut encoder = GzBuilder::new().mtime(0).write(Vec::new(), Compression::new(6));
    encoder.write_all(data)?;
    Ok(encoder.finish()?)
}

fn sha256(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

fn write_blob(blobs: &Path, media_type: MediaType, data: &[u8]) -> Result<Descriptor> {
    let digest = sha256(data);
    write_file(&blobs.join(&digest[7..]), data)?;
    Ok(Descriptor::new(media_type, data.len() as u64, Digest::from_str(&digest)?))
}

fn write_file(path: &Path, data: &[u8]) -> Result<()> {
    fs::write(path, data).with_context(|| format!("write {}", path.display()))
}
