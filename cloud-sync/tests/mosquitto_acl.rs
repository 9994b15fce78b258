//! `config/mosquitto/baytrace.acl` on a real Mosquitto: a box logged in as A cannot publish on
//! B's `up` (the cloud never even receives it), while A's own batches flow.

mod support;

use cloud_sync::provision::mosquitto_passwd;
use cloud_sync::store::CloudStore;
use support::*;
use trace_core::EntryBatch;

const ACL: &str = include_str!("../../config/mosquitto/baytrace.acl");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acl_confines_each_box_to_its_topics() {
    init_tracing();
    let a = TestBox::new("stall-acl-a", 20);
    let b = TestBox::new("stall-acl-b", 20);
    let auth = tempfile::tempdir().unwrap();
    let passwd = auth.path().join("passwd");
    for (user, pw) in [
        ("baytrace-cloud", "cloud-pw"),
        ("stall-acl-a", "a-pw"),
        ("stall-acl-b", "b-pw"),
    ] {
        mosquitto_passwd(&passwd, user, pw).unwrap();
    }
    let acl = auth.path().join("acl");
    std::fs::write(&acl, ACL).unwrap();
    let m = start_mosquitto(
        &format!(
            "allow_anonymous false\npassword_file {}\nacl_file {}",
            passwd.display(),
            acl.display()
        ),
        &[],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (cloud, _stop) = start_cloud(dir.path(), &BrokerKind::Mosquitto(m.port), |c| {
        c.mqtt.username = Some("baytrace-cloud".into());
        c.mqtt.password = Some("cloud-pw".into());
    })
    .await;
    a.register(&cloud).await;
    b.register(&cloud).await;

    let mut pa = connect_box(m.port, &a.id, Some(("stall-acl-a", "a-pw")), false).await;
    // A publishes B's entries (even correctly signed with B's stolen key) on B's topic.
    let forged = seal(
        &EntryBatch::new(b.id.clone(), b.chain[..10].to_vec()),
        &b.key,
    );
    pa.up_on(&b.id, forged).await;
    // Then its own batch: acked, so the cloud processed everything that reached it in order.
    pa.up(a.payload(1, 20)).await;
    assert_eq!(pa.ack().await.hwm, 20);

    let devices = cloud.store.list_devices().await.unwrap();
    let db = devices.iter().find(|d| d.id == b.id).unwrap();
    assert_eq!(db.entries, 0, "B's topic was closed to A");
    assert!(
        cloud.metrics.refusals().is_empty(),
        "the broker dropped it before the cloud: {:?}",
        cloud.metrics.refusals()
    );
    assert_eq!(
        cloud
            .metrics
            .up_messages
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );

    // A wrong password is refused at connect.
    let mut opts = rumqttc::MqttOptions::new("intruder", rumqttc::Broker::tcp("127.0.0.1", m.port));
    opts.set_credentials("stall-acl-b", b"wrong".to_vec());
    let (_c, mut ev) = rumqttc::AsyncClient::builder(opts).build();
    let first = tokio::time::timeout(std::time::Duration::from_secs(10), ev.poll())
        .await
        .unwrap();
    assert!(first.is_err(), "bad password must not connect: {first:?}");
}
