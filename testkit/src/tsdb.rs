//! Real time-series databases for tests, started from Debian's packages on a free
//! port of 127.0.0.1 with their data in a temporary directory: VictoriaMetrics
//! single node (`victoria-metrics`) and Prometheus (`prometheus`, as a remote-write
//! receiver). `.ci/run` installs both; a missing one fails the test.
//!
//! The queries go over plain HTTP/1.0 from the test's thread, so a test can wait on
//! them without a runtime.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command};

use crate::process::terminate;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Which database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    VictoriaMetrics,
    Prometheus,
}

/// A running (or stopped) database; dropped, it stops and removes its data.
#[derive(Debug)]
pub struct Tsdb {
    kind: Kind,
    dir: PathBuf,
    port: u16,
    child: Option<Child>,
    /// Holds the port while the server is stopped.
    reserved: Option<Reserved>,
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A port of 127.0.0.1 held by a bound socket that does not listen: a connection to
/// it is refused, as to a stopped server, and no other socket (the outgoing
/// connections of tests running alongside included) is given it until it is dropped.
#[derive(Debug)]
pub struct Reserved(tokio::net::TcpSocket);

impl Default for Reserved {
    fn default() -> Self {
        Self::new()
    }
}

impl Reserved {
    /// Holds a free port.
    pub fn new() -> Self {
        Self::port(0).expect("hold a free port")
    }

    /// Holds `port` (a server that just stopped may leave it in TIME_WAIT, hence
    /// SO_REUSEADDR, which the servers set too).
    fn port(port: u16) -> std::io::Result<Self> {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.set_reuseaddr(true)?;
        socket.bind(SocketAddr::from(([127, 0, 0, 1], port)))?;
        Ok(Self(socket))
    }

    /// The port held.
    pub fn number(&self) -> u16 {
        self.0.local_addr().expect("bound").port()
    }
}

impl Tsdb {
    /// Starts `kind` on a free port.
    pub fn start(kind: Kind) -> Self {
        Self::start_on(kind, Reserved::new())
    }

    /// Starts `kind` on the port `reserved` holds.
    pub fn start_on(kind: Kind, reserved: Reserved) -> Self {
        let port = reserved.number();
        let dir = std::env::temp_dir().join(format!(
            "keviq-tsdb-{}-{port}-{:?}",
            std::process::id(),
            kind
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("data dir");
        let mut db = Self {
            kind,
            dir,
            port,
            child: None,
            reserved: Some(reserved),
        };
        db.resume();
        db
    }

    /// The remote-write endpoint.
    pub fn write_url(&self) -> String {
        format!("http://127.0.0.1:{}/api/v1/write", self.port)
    }

    /// The base of the query API.
    pub fn query_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Starts the server again on the same port and data.
    pub fn resume(&mut self) {
        let listen = format!("127.0.0.1:{}", self.port);
        let mut command = match self.kind {
            Kind::VictoriaMetrics => {
                let mut c = Command::new("/usr/bin/victoria-metrics");
                c.arg(format!("-httpListenAddr={listen}"))
                    .arg(format!("-storageDataPath={}", self.dir.display()))
                    // Every sample visible at once, none merged away.
                    .arg("-search.latencyOffset=0s")
                    .arg("-search.disableCache")
                    .arg("-retentionPeriod=1d");
                c
            }
            Kind::Prometheus => {
                let config = self.dir.join("prometheus.yml");
                std::fs::write(&config, "global:\n  scrape_interval: 1h\n").expect("config");
                let mut c = Command::new("/usr/bin/prometheus");
                c.arg("--web.enable-remote-write-receiver")
                    .arg(format!("--config.file={}", config.display()))
                    .arg(format!(
                        "--storage.tsdb.path={}",
                        self.dir.join("data").display()
                    ))
                    .arg(format!("--web.listen-address={listen}"));
                c
            }
        };
        let log = self.dir.join("server.log");
        let output = std::fs::File::create(&log).expect("server log");
        // The port is let go just before the server binds it.
        self.reserved = None;
        let child = command
            .stdout(output.try_clone().expect("server log"))
            .stderr(output)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {:?} ({e}); install Debian's `victoria-metrics` and `prometheus` as .ci/run does",
                    self.kind
                )
            });
        self.child = Some(child);
        let ready = match self.kind {
            Kind::VictoriaMetrics => "/health",
            Kind::Prometheus => "/-/ready",
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if matches!(get(self.addr(), ready), Some((200, _))) {
                return;
            }
            if let Some(child) = &mut self.child
                && let Ok(Some(status)) = child.try_wait()
            {
                let said = std::fs::read_to_string(&log).unwrap_or_default();
                let tail: Vec<&str> = said.lines().rev().take(5).collect();
                panic!(
                    "{:?} exited at start-up: {status}; it said:\n{}",
                    self.kind,
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                );
            }
            assert!(
                Instant::now() < deadline,
                "{:?} not ready within 30 s",
                self.kind
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops the server as an operator would, with SIGTERM (both flush what they
    /// received); its data stays.
    pub fn stop(&mut self) {
        if self.halt() {
            self.reserved = Reserved::port(self.port).ok();
        }
    }

    /// Stops the server, if it runs; tells whether it did.
    fn halt(&mut self) -> bool {
        if let Some(mut child) = self.child.take() {
            if matches!(child.try_wait(), Ok(None)) {
                let _ = terminate(&mut child, Duration::from_secs(30));
            }
            let _ = child.kill();
            let _ = child.wait();
            return true;
        }
        false
    }

    /// Makes everything received searchable (VictoriaMetrics buffers for a second).
    pub fn flush(&self) {
        if self.kind == Kind::VictoriaMetrics {
            let _ = get(self.addr(), "/internal/force_flush");
        }
    }

    /// An instant query's result (`data.result`).
    pub fn query(&self, promql: &str) -> Vec<Value> {
        self.flush();
        let time = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs_f64();
        let path = format!(
            "/api/v1/query?query={}&time={time:.3}",
            form_urlencoded::byte_serialize(promql.as_bytes()).collect::<String>()
        );
        let (status, body) = get(self.addr(), &path).expect("query answered");
        assert_eq!(status, 200, "{promql}: {body}");
        let json: Value = serde_json::from_str(&body).expect("JSON");
        json["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The raw samples of every series matching `selector` over the last `minutes`:
    /// `(labels as name=value, sorted, [(ms, value)])`. Prometheus leaves staleness
    /// markers out; VictoriaMetrics returns them as NaN.
    pub fn samples(&self, selector: &str, minutes: u32) -> Vec<(String, Vec<(i64, f64)>)> {
        let mut out: Vec<(String, Vec<(i64, f64)>)> = self
            .query(&format!("{selector}[{minutes}m]"))
            .into_iter()
            .map(|series| {
                let mut labels: Vec<String> = series["metric"]
                    .as_object()
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                            .collect()
                    })
                    .unwrap_or_default();
                labels.sort();
                let points = series["values"]
                    .as_array()
                    .map(|values| {
                        values
                            .iter()
                            .map(|p| {
                                let t = (p[0].as_f64().unwrap_or_default() * 1000.0).round() as i64;
                                let v = p[1].as_str().unwrap_or("NaN").parse().unwrap_or(f64::NAN);
                                (t, v)
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                (labels.join(","), points)
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

impl Drop for Tsdb {
    fn drop(&mut self) {
        self.halt();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A GET over HTTP/1.0 (no chunking, the server closes): status and body.
pub fn get(addr: SocketAddr, path_and_query: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .ok()?;
    write!(
        stream,
        "GET {path_and_query} HTTP/1.0\r\nHost: {addr}\r\n\r\n"
    )
    .ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    let response = String::from_utf8_lossy(&response);
    let (head, body) = response.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    Some((status, body.to_owned()))
}
