//! The cloud's ingest client over TLS (`mqtts://` + a CA file) to a Mosquitto TLS listener with
//! a certificate from a throwaway CA made by the openssl command.

mod support;

use std::path::Path;
use std::process::Command;
use support::*;

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl is not installed: apt-get install openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// ca.pem, server.pem, server.key for `localhost` / 127.0.0.1.
fn make_certs(dir: &Path) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-days",
        "2",
        "-subj",
        "/CN=baytrace test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl(dir, &ca);
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend([
        "-subj",
        "/CN=localhost",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    openssl(dir, &csr);
    std::fs::write(
        dir.join("ext.cnf"),
        "basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-out",
            "server.pem",
            "-extfile",
            "ext.cnf",
        ],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_over_tls() {
    init_tracing();
    let certs = tempfile::tempdir().unwrap();
    make_certs(certs.path());
    let tls_port = free_port();
    let c = certs.path().display().to_string();
    let m = start_mosquitto(
        &format!(
            "allow_anonymous true\nuser root\nlistener {tls_port} 127.0.0.1\ncafile {c}/ca.pem\ncertfile {c}/server.pem\nkeyfile {c}/server.key\n"
        ),
        &[],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (cloud, stop) = start_cloud(dir.path(), &BrokerKind::Mosquitto(m.port), |cfg| {
        cfg.mqtt.url = format!("mqtts://localhost:{tls_port}");
        cfg.mqtt.ca_file = Some(certs.path().join("ca.pem"));
    })
    .await;
    assert_eq!(cloud.mqtt_addr, format!("localhost:{tls_port}"));
    let b = TestBox::new("stall-tls", 30);
    b.register(&cloud).await;
    // The box uses the plain loopback listener; the cloud reads over TLS.
    let mut p = connect_box(m.port, &b.id, None, false).await;
    p.up(b.payload(1, 30)).await;
    assert_eq!(p.ack().await.hwm, 30);
    let _ = stop.send(());
    cloud.wait().await.unwrap();
}
