//! A real HTTP/1.1 server on loopback for provider tests: a closure computes each response
//! from the request (so a test can serve any date range, or 429 then 200), and every request
//! is logged so tests can count calls. httpmock and wiremock serve fixed responses per
//! matcher, which can express neither.

#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    /// Path without the query.
    pub path: String,
    /// Decoded query parameters.
    pub query: BTreeMap<String, String>,
}

/// What to answer.
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub delay: Duration,
}

impl Response {
    pub fn json(status: u16, body: impl Into<String>) -> Response {
        Response {
            status,
            headers: vec![],
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    pub fn header(mut self, k: &str, v: &str) -> Response {
        self.headers.push((k.into(), v.into()));
        self
    }

    pub fn delayed(mut self, d: Duration) -> Response {
        self.delay = d;
        self
    }
}

/// Whether `r` asks FMP for a symbol's splits or dividends (`/stable/splits`,
/// `/stable/dividends`), which FMP is asked for after its prices.
pub fn is_fmp_event(r: &Request) -> bool {
    r.path == "/stable/splits" || r.path == "/stable/dividends"
}

impl MockServer {
    /// A loopback FMP whose price requests `respond(request, n)` answers (`n` counts the price
    /// requests from 0) and whose split and dividend lists hold no event.
    pub fn fmp(
        respond: impl Fn(&Request, usize) -> Response + Send + Sync + 'static,
    ) -> MockServer {
        let prices = std::sync::atomic::AtomicUsize::new(0);
        MockServer::start(move |r, _| {
            if is_fmp_event(r) {
                return Response::json(200, "[]");
            }
            respond(r, prices.fetch_add(1, Ordering::SeqCst))
        })
    }

    /// Requests for prices received so far (not FMP's split and dividend lists).
    pub fn price_hits(&self) -> usize {
        self.requests().iter().filter(|r| !is_fmp_event(r)).count()
    }

    /// A loopback FMP that answers every symbol with the same two bars (2024-01-02 and 03).
    pub fn fmp_two_bars() -> MockServer {
        MockServer::fmp(|r, _| {
            let s = r.query.get("symbol").cloned().unwrap_or_default();
            Response::json(
                200,
                format!(
                    r#"[{{"symbol":"{s}","date":"2024-01-03","open":10,"high":11,"low":9,"close":10.5,"volume":100}},
                       {{"symbol":"{s}","date":"2024-01-02","open":10,"high":11,"low":9,"close":10.2,"volume":100}}]"#
                ),
            )
        })
    }
}

type Responder = dyn Fn(&Request, usize) -> Response + Send + Sync;

/// The server; stops when dropped.
pub struct MockServer {
    port: u16,
    log: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl MockServer {
    /// Starts a server whose responses `respond(request, n)` computes; `n` counts requests
    /// from 0.
    pub fn start(
        respond: impl Fn(&Request, usize) -> Response + Send + Sync + 'static,
    ) -> MockServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let respond: Arc<Responder> = Arc::new(respond);
        let (log2, stop2) = (log.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (respond, log) = (respond.clone(), log2.clone());
                std::thread::spawn(move || serve(stream, &*respond, &log));
            }
        });
        MockServer {
            port,
            log,
            stop,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Requests received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().unwrap().clone()
    }

    /// Number of requests received so far.
    pub fn hits(&self) -> usize {
        self.log.lock().unwrap().len()
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(stream: TcpStream, respond: &Responder, log: &Mutex<Vec<Request>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
            break;
        }
    }
    let target = line.split_whitespace().nth(1).unwrap_or("/");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let query = query
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode(k), decode(v))
        })
        .collect();
    let request = Request {
        path: path.to_string(),
        query,
    };
    let n = {
        let mut log = log.lock().unwrap();
        log.push(request.clone());
        log.len() - 1
    };
    let response = respond(&request, n);
    std::thread::sleep(response.delay);
    let mut out = stream;
    let mut head = format!(
        "HTTP/1.1 {} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        response.status,
        response.body.len()
    );
    for (k, v) in &response.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = out.write_all(head.as_bytes());
    let _ = out.write_all(response.body.as_bytes());
    let _ = out.flush();
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
