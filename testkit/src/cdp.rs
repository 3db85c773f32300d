//! Headless Chromium driven over the Chrome DevTools Protocol, for tests that click
//! through the dashboard: a blocking WebSocket client on `std` alone (text frames,
//! masked as a client must), `Runtime.evaluate`, real mouse clicks
//! (`Input.dispatchMouseEvent`) and `Page.captureScreenshot`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How every test runs Chromium: headless, offline but for the page it is given.
pub const HEADLESS: [&str; 8] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// A headless Chromium with one page; killed on drop.
#[derive(Debug)]
pub struct Browser {
    child: Child,
    socket: TcpStream,
    next_id: u64,
    profile: PathBuf,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Browser {
    /// Starts Chromium (`width` × `height`) with a fresh profile under `profile`
    /// and connects to its page.
    pub fn start(profile: &Path, width: u32, height: u32) -> Self {
        let _ = std::fs::remove_dir_all(profile);
        std::fs::create_dir_all(profile).expect("profile dir");
        let mut child = Command::new("chromium")
            .args(HEADLESS)
            .args([
                "--hide-scrollbars",
                "--remote-debugging-port=0",
                "--remote-allow-origins=*",
            ])
            .arg(format!("--window-size={width},{height}"))
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run chromium ({e}); install Debian's `chromium` as .ci/run does")
            });
        // "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/…"
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let port: u16 = loop {
            let line = lines
                .next()
                .expect("chromium exited before listening")
                .expect("stderr");
            if let Some(rest) = line.split("ws://127.0.0.1:").nth(1) {
                break rest
                    .split('/')
                    .next()
                    .and_then(|p| p.parse().ok())
                    .expect("port");
            }
        };
        // Keep draining stderr so Chromium never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let deadline = Instant::now() + Duration::from_secs(10);
        let page_path = loop {
            if let Some(list) = http_get(port, "/json/list")
                && let Some(path) = serde_json::from_str::<Value>(&list)
                    .ok()
                    .and_then(|v| {
                        v.as_array()?.iter().find(|t| t["type"] == "page")?["webSocketDebuggerUrl"]
                            .as_str()
                            .map(str::to_owned)
                    })
                    .and_then(|url| url.split_once(&format!(":{port}")).map(|p| p.1.to_owned()))
            {
                break path;
            }
            assert!(Instant::now() < deadline, "no page in chromium");
            std::thread::sleep(Duration::from_millis(100));
        };
        let mut socket = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        socket
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        write!(
            socket,
            "GET {page_path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Version: 13\r\n\r\n"
        )
        .expect("handshake");
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            socket.read_exact(&mut byte).expect("handshake answer");
            head.push(byte[0]);
        }
        assert!(
            head.starts_with(b"HTTP/1.1 101"),
            "{}",
            String::from_utf8_lossy(&head)
        );
        let mut browser = Self {
            child,
            socket,
            next_id: 0,
            profile: profile.to_owned(),
        };
        browser.call("Page.enable", json!({}));
        browser
    }

    /// Sends a command and returns its `result`, skipping events.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let message = json!({"id": id, "method": method, "params": params}).to_string();
        send_text(&mut self.socket, message.as_bytes());
        loop {
            let answer: Value =
                serde_json::from_slice(&read_message(&mut self.socket)).expect("CDP JSON");
            if answer["id"] == id {
                assert!(answer["error"].is_null(), "{method}: {answer}");
                return answer["result"].clone();
            }
        }
    }

    /// Opens `url`.
    pub fn navigate(&mut self, url: &str) {
        self.call("Page.navigate", json!({ "url": url }));
    }

    /// The value of a JavaScript expression (awaited when a promise).
    pub fn eval(&mut self, expression: &str) -> Value {
        let result = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        );
        assert!(
            result["exceptionDetails"].is_null(),
            "{expression}: {result}"
        );
        result["result"]["value"].clone()
    }

    /// Waits until `expression` is truthy; fails with `what` after `limit`.
    pub fn wait_for(&mut self, what: &str, expression: &str, limit: Duration) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let value = self.eval(expression);
            if !(value.is_null() || value == false || value == 0 || value == "") {
                return value;
            }
            if Instant::now() >= deadline {
                let body = self.eval("document.body ? document.body.innerText : ''");
                panic!("{what}: not within {limit:?}; the page shows:\n{body}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Clicks the middle of the first element matching `selector`, as a person
    /// would: scrolled into view, then a real mouse press and release there.
    pub fn click(&mut self, selector: &str) {
        let selector_json = Value::from(selector).to_string();
        let point = self.eval(&format!(
            "(() => {{ const e = document.querySelector({selector_json}); if (!e) return null;
               e.scrollIntoView({{block: 'center', inline: 'center'}});
               const r = e.getBoundingClientRect();
               return [r.left + r.width / 2, r.top + r.height / 2]; }})()"
        ));
        let (x, y) = match point.as_array().map(Vec::as_slice) {
            Some([x, y]) => (x.as_f64().expect("x"), y.as_f64().expect("y")),
            _ => panic!("nothing to click at `{selector}`"),
        };
        for kind in ["mouseMoved", "mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}),
            );
        }
    }

    /// Saves a PNG of the page, the whole height of its content, to `path`.
    pub fn screenshot(&mut self, path: &Path) {
        let shot = self.call(
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true}),
        );
        let png = base64_decode(shot["data"].as_str().expect("data"));
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        std::fs::write(path, png).expect("write the screenshot");
    }
}

fn http_get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    )
    .ok()?;
    // Chromium answers HTTP/1.1 with a length and may keep the connection open.
    let mut reader = BufReader::new(stream);
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).ok()?;
    String::from_utf8(body).ok()
}

/// One masked text frame (a client's frames must be masked).
fn send_text(socket: &mut TcpStream, payload: &[u8]) {
    let mask = [0x6b, 0x65, 0x76, 0x71];
    let mut frame = vec![0x81];
    match payload.len() {
        n if n < 126 => frame.push(0x80 | n as u8),
        n if n <= 0xffff => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    socket.write_all(&frame).expect("send");
}

/// The next whole message (continuation frames joined; control frames skipped).
fn read_message(socket: &mut TcpStream) -> Vec<u8> {
    let mut message = Vec::new();
    loop {
        let mut head = [0u8; 2];
        socket.read_exact(&mut head).expect("frame");
        let fin = head[0] & 0x80 != 0;
        let opcode = head[0] & 0x0f;
        let len = match head[1] & 0x7f {
            126 => {
                let mut n = [0u8; 2];
                socket.read_exact(&mut n).expect("length");
                u64::from(u16::from_be_bytes(n))
            }
            127 => {
                let mut n = [0u8; 8];
                socket.read_exact(&mut n).expect("length");
                u64::from_be_bytes(n)
            }
            n => u64::from(n),
        };
        let mut payload = vec![0u8; usize::try_from(len).expect("length")];
        socket.read_exact(&mut payload).expect("payload");
        if opcode == 0x8 {
            panic!("chromium closed the connection");
        }
        if opcode >= 0x8 {
            continue;
        }
        message.extend_from_slice(&payload);
        if fin {
            return message;
        }
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let digits: Vec<u8> = text.bytes().filter(|&c| c != b'=').map(value).collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let mut n = 0u32;
        for (i, d) in chunk.iter().enumerate() {
            n |= u32::from(*d) << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    out
}
