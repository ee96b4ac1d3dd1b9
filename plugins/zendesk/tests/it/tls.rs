//! TLS against a real HTTPS server on 127.0.0.1: a private CA and a server certificate made with the
//! `openssl` command, served by Python's `ssl` module (both on every machine this project runs on).
//! A certificate from an unknown CA is refused by default and accepted with `verify: {ca: FILE}` or
//! `{ca: FILE, only: true}`; a redirect to another host is reported, never followed; plain http:// to
//! another machine is refused unless `allow_insecure_http: true`.

use std::{
    io::{BufRead as _, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
};

use otai_plugin_sdk::ErrorKind;
use otai_zendesk::{Logger, ZendeskClient};
use serde_json::{json, Value};

/// `openssl` with arguments, in `dir`; panics with its output on failure.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA (`{name}-ca.pem`) and a certificate for 127.0.0.1 it signed (`{name}.pem`, `{name}.key`).
fn make_ca_and_server_cert(dir: &Path, name: &str) -> PathBuf {
    let ca = format!("{name}-ca");
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN=otai test {ca}"),
            "-keyout",
            &format!("{ca}.key"),
            "-out",
            &format!("{ca}.pem"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.csr"),
        ],
    );
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
            "-out",
            &format!("{name}.pem"),
        ],
    );
    dir.join(format!("{ca}.pem"))
}

/// An HTTPS server on 127.0.0.1 answering `/api/v2/users/me` and redirecting `/api/v2/tickets/1`
/// to another host; prints its port first, then one line per request it served.
struct Server {
    child: Child,
    port: u16,
}

const SERVER: &str = r#"
import http.server, json, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        print(self.path, flush=True)
        if self.path.startswith("/api/v2/tickets/1"):
            self.send_response(302); self.send_header("Location", "https://127.0.0.2:9/api/v2/tickets/1")
            self.send_header("Content-Length", "0"); self.end_headers(); return
        body = json.dumps({"user": {"id": 7, "email": "agent@example.com", "role": "admin"}}).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
s = http.server.HTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(sys.argv[1], sys.argv[2])
s.socket = ctx.wrap_socket(s.socket, server_side=True)
print(s.server_address[1], flush=True)
s.serve_forever()
"#;

impl Server {
    fn start(dir: &Path, name: &str) -> (Server, BufReader<std::process::ChildStdout>) {
        let mut child = Command::new("python3")
            .args(["-c", SERVER])
            .arg(dir.join(format!("{name}.pem")))
            .arg(dir.join(format!("{name}.key")))
            .stdout(Stdio::piped())
            .spawn()
            .expect("start python3");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("no port from the server: {line:?}"));
        (Server { child, port }, out)
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client(base_url: &str, verify: Value) -> Result<ZendeskClient, otai_plugin_sdk::Error> {
    let params =
        json!({"base_url": base_url, "oauth_token": "t", "verify": verify, "max_attempts": 1});
    ZendeskClient::from_params_json(&params.to_string(), Logger::silent())
}

#[tokio::test]
async fn a_private_ca_is_refused_by_default_and_trusted_when_configured() {
    let dir = tempfile::TempDir::new().unwrap();
    let ca = make_ca_and_server_cert(dir.path(), "server");
    let other_ca = make_ca_and_server_cert(dir.path(), "unrelated");
    let (server, _log) = Server::start(dir.path(), "server");

    let default = client(&server.url(), json!(true))
        .unwrap()
        .check_connection()
        .await;
    let added = client(&server.url(), json!({"ca": ca}))
        .unwrap()
        .check_connection()
        .await;
    let only = client(&server.url(), json!({"ca": ca, "only": true}))
        .unwrap()
        .check_connection()
        .await;
    let wrong = client(&server.url(), json!({"ca": other_ca, "only": true}))
        .unwrap()
        .check_connection()
        .await;

    let err = default.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Transport, "{}", err.message);
    assert!(
        err.message.contains("certificate") || err.message.contains("Certificate"),
        "{}",
        err.message
    );
    assert!(added.unwrap().contains("agent@example.com"));
    assert!(only.unwrap().contains("agent@example.com"));
    assert_eq!(wrong.unwrap_err().kind, ErrorKind::Transport);
}

#[tokio::test]
async fn a_redirect_to_another_host_is_reported_and_never_followed() {
    let dir = tempfile::TempDir::new().unwrap();
    let ca = make_ca_and_server_cert(dir.path(), "server");
    let (server, mut log) = Server::start(dir.path(), "server");
    let c = client(&server.url(), json!({"ca": ca, "only": true})).unwrap();

    let err = c.get_ticket("1").await.unwrap_err();
    drop(server);

    assert!(err.message.contains("redirect"), "{}", err.message);
    assert!(
        !err.message.contains("Bearer") && !err.message.contains(" t "),
        "{}",
        err.message
    );
    let mut served = String::new();
    std::io::Read::read_to_string(&mut log, &mut served).unwrap();
    assert_eq!(
        served.lines().count(),
        1,
        "one request, no second one anywhere: {served}"
    );
}

#[test]
fn plain_http_to_another_machine_is_refused_unless_allowed() {
    let refused = client("http://helpdesk.example.com", json!(true)).unwrap_err();
    assert_eq!(refused.kind, ErrorKind::Config);
    assert!(
        refused.message.contains("allow_insecure_http"),
        "{}",
        refused.message
    );
    for local in [
        "http://127.0.0.1:8080",
        "http://localhost:1",
        "http://[::1]:9",
    ] {
        assert!(
            client(local, json!(true)).is_ok(),
            "{local} stays on this machine"
        );
    }
    let params = json!({"base_url": "http://helpdesk.example.com", "oauth_token": "t", "allow_insecure_http": true});
    assert!(ZendeskClient::from_params_json(&params.to_string(), Logger::silent()).is_ok());
}

#[test]
fn verify_false_is_warned_about_loudly() {
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = lines.clone();
    let log = Logger::from_fn(move |level, _, message: &str| {
        sink.lock().unwrap().push(format!("{level:?} {message}"));
    });
    let params =
        json!({"base_url": "https://acme.zendesk.com", "oauth_token": "t", "verify": false});

    ZendeskClient::from_params_json(&params.to_string(), log).unwrap();

    let lines = lines.lock().unwrap();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Warn") && l.contains("verification is OFF")),
        "{lines:?}"
    );
}
