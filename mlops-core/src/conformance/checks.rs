//! Checks every [`Registry`] must pass, whatever its storage.

use crate::{Cmp, Error, FileRole, ModelPackage, Package, PackageBuilder, SearchQuery, Stage, VersionSelector};

use super::Backend;

/// A small, valid package of model `name`; `seed` makes its content (and digest) distinct.
pub fn package(name: &str, seed: f32) -> Package {
    PackageBuilder::new(name)
        .weights(crate::testing::safetensors_f32(&[(
            "w",
            &[3],
            &[seed, seed + 1.0, seed + 2.0],
        )]))
        .model_config(serde_json::json!({"architecture": "linear"}))
        .file("vocab.txt", FileRole::Other, b"a\nb\n".to_vec())
        .example(b"[{\"x\": 1}]".to_vec(), b"[0.5]".to_vec())
        .metric("auc", f64::from(seed) / 10.0)
        .param("lr", serde_json::json!(0.01))
        .code_version("abc123")
        .parent("base", 1)
        .build()
        .unwrap()
}

/// Versions, aliases (moves, history, time travel, deletion) and verified loads.
pub async fn versions_aliases_and_loading(backend: &dyn Backend) {
    let r = backend.registry("versions_aliases_and_loading");
    assert!(matches!(
        r.resolve("m", &VersionSelector::Latest).await,
        Err(Error::NotFound { .. })
    ));
    let p1 = package("m", 1.0);
    assert_eq!(r.register(&p1).await.unwrap(), 1);
    assert_eq!(r.register(&package("m", 2.0)).await.unwrap(), 2);
    assert_eq!(r.register(&package("other", 3.0)).await.unwrap(), 1);
    assert_eq!(r.list_models().await.unwrap(), vec!["m", "other"]);
    assert_eq!(r.resolve("m", &VersionSelector::Latest).await.unwrap(), 2);
    let loaded = r.load("m", 1).await.unwrap();
    assert_eq!(loaded.digest(), p1.digest());
    assert_eq!(
        loaded.read_file("weights.safetensors").unwrap(),
        p1.read_file("weights.safetensors").unwrap()
    );
    assert!(matches!(r.load("m", 9).await, Err(Error::NotFound { .. })));
    assert!(matches!(
        r.resolve("m", &VersionSelector::Version(9)).await,
        Err(Error::NotFound { .. })
    ));

    r.set_alias("m", "champion", 1).await.unwrap();
    let t_between = crate::time::now_ms();
    std::thread::sleep(std::time::Duration::from_millis(5));
    let moved = r.set_alias("m", "champion", 2).await.unwrap();
    assert_eq!((moved.previous, moved.version, moved.seq), (Some(1), Some(2), 2));
    assert_eq!(
        r.resolve("m", &VersionSelector::Alias("champion".into()))
            .await
            .unwrap(),
        2
    );
    assert_eq!(r.alias_at("m", "champion", t_between).await.unwrap(), Some(1));
    assert_eq!(r.alias_at("m", "champion", 0).await.unwrap(), None);
    r.delete_alias("m", "champion").await.unwrap();
    assert!(matches!(
        r.resolve("m", &VersionSelector::Alias("champion".into())).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        r.delete_alias("m", "champion").await,
        Err(Error::NotFound { .. })
    ));
    let history = r.alias_history("m", "champion").await.unwrap();
    assert_eq!(
        history.iter().map(|e| e.version).collect::<Vec<_>>(),
        vec![Some(1), Some(2), None]
    );
    assert!(history.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
    assert!(matches!(
        r.set_alias("m", "champion", 42).await,
        Err(Error::NotFound { .. })
    ));
}

/// Stage transitions, tags, descriptions, search, lineage, the audit log and purge.
pub async fn stages_tags_search_lineage_audit(backend: &dyn Backend) {
    let r = backend.registry("stages_tags_search_lineage_audit");
    for s in [1.0, 5.0, 9.0] {
        r.register(&package("fraud", s)).await.unwrap();
    }
    r.transition("fraud", 1, Stage::Staging, None).await.unwrap();
    r.transition("fraud", 1, Stage::Production, None).await.unwrap();
    assert!(matches!(
        r.transition("fraud", 2, Stage::Archived, None).await,
        Err(Error::InvalidInput { .. })
    ));
    r.transition("fraud", 2, Stage::Archived, Some("superseded"))
        .await
        .unwrap();
    assert!(matches!(
        r.transition("fraud", 2, Stage::Production, None).await,
        Err(Error::InvalidInput { .. })
    ));
    let h = r.stage_history("fraud", 1).await.unwrap();
    assert_eq!(
        h.iter().map(|e| (e.from, e.to)).collect::<Vec<_>>(),
        vec![(Stage::Registered, Stage::Staging), (Stage::Staging, Stage::Production)]
    );

    r.set_tag("fraud", Some(3), "team", Some("risk")).await.unwrap();
    r.set_tag("fraud", None, "owner", Some("ml-platform")).await.unwrap();
    r.set_description("fraud", Some(3), Some("candidate")).await.unwrap();
    r.set_tag("fraud", Some(3), "team", Some("fraud-ops")).await.unwrap();
    r.set_alias("fraud", "challenger", 3).await.unwrap();

    let by_tag = r
        .search(&SearchQuery {
            tag: Some(("team".into(), "fraud-ops".into())),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_tag.iter().map(|v| v.version).collect::<Vec<_>>(), vec![3]);
    assert_eq!(by_tag[0].aliases, vec!["challenger"]);
    assert_eq!(by_tag[0].description.as_deref(), Some("candidate"));
    let prod = r
        .search(&SearchQuery {
            stage: Some(Stage::Production),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(prod.iter().map(|v| v.version).collect::<Vec<_>>(), vec![1]);
    let good = r
        .search(&SearchQuery {
            metric: Some(("auc".into(), Cmp::AtLeast, 0.5)),
            name_contains: Some("fra".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(good.iter().map(|v| v.version).collect::<Vec<_>>(), vec![2, 3]);
    assert!(
        r.search(&SearchQuery {
            name_contains: Some("nope".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .is_empty()
    );

    let lineage = r.lineage("fraud", 3).await.unwrap();
    assert_eq!(lineage.code_version.as_deref(), Some("abc123"));
    assert_eq!(
        lineage.parent.as_ref().map(|p| (p.name.as_str(), p.version)),
        Some(("base", 1))
    );
    assert_eq!(lineage.params["lr"], serde_json::json!(0.01));

    let audit = r.audit_log("fraud").await.unwrap();
    let ops: Vec<&str> = audit.iter().map(|a| a.operation.as_str()).collect();
    for op in ["register", "transition", "set_tag", "set_description", "set_alias"] {
        assert!(ops.contains(&op), "{op} missing from {ops:?}");
    }
    assert_eq!(audit.len(), 3 + 3 + 3 + 1 + 1);
    assert!(!audit[0].actor.is_empty());
    assert!(audit.iter().all(|a| a.actor == audit[0].actor), "one writer, one actor");
    let retag = audit
        .iter()
        .rfind(|a| a.operation == "set_tag" && a.target == "version 3")
        .unwrap();
    assert_eq!(
        (retag.before["team"].as_str(), retag.after["team"].as_str()),
        (Some("risk"), Some("fraud-ops"))
    );

    // Purge: only archived versions; a purged version no longer loads; others still do.
    assert!(r.purge("fraud", 3, None).await.is_err());
    r.purge("fraud", 2, Some("gdpr")).await.unwrap();
    assert!(matches!(r.load("fraud", 2).await, Err(Error::NotFound { .. })));
    r.load("fraud", 1).await.unwrap();
    r.load("fraud", 3).await.unwrap();
    assert!(r.list_versions("fraud").await.unwrap()[1].purged);
}

/// Invalid names are `InvalidInput` everywhere, never a path on storage.
pub async fn bad_names_and_inputs(backend: &dyn Backend) {
    let r = backend.registry("bad_names_and_inputs");
    r.register(&package("ok", 1.0)).await.unwrap();
    for bad in ["", "../x", "a/b", ".git", "x y", "é", &"n".repeat(129)] {
        assert!(
            matches!(
                r.resolve(bad, &VersionSelector::Latest).await,
                Err(Error::InvalidInput { .. })
            ),
            "{bad:?}"
        );
        assert!(
            matches!(r.set_alias("ok", bad, 1).await, Err(Error::InvalidInput { .. })),
            "alias {bad:?}"
        );
        assert!(
            matches!(
                r.set_tag("ok", None, bad, Some("v")).await,
                Err(Error::InvalidInput { .. })
            ),
            "tag {bad:?}"
        );
        assert!(
            PackageBuilder::new(bad)
                .weights(crate::testing::tiny_safetensors())
                .build()
                .is_err()
        );
    }
}

/// 8 tasks sharing one client race on one model and one alias: distinct,
/// gap-free versions and an alias history without lost updates.
pub async fn concurrent_writers_in_one_process(backend: &dyn Backend) {
    // Many tasks racing on one model: distinct, gap-free versions; complete alias history.
    let r = backend.registry("concurrent_writers_in_one_process");
    let mut handles = Vec::new();
    for t in 0..8 {
        let r = r.clone();
        handles.push(tokio::spawn(async move {
            let mut got = Vec::new();
            for i in 0..5 {
                let v = r.register(&package("race", (t * 10 + i) as f32)).await.unwrap();
                r.set_alias("race", "latest-good", v).await.unwrap();
                got.push(v);
            }
            got
        }));
    }
    let mut all: Vec<u64> = Vec::new();
    for h in handles {
        all.extend(h.await.unwrap());
    }
    all.sort_unstable();
    assert_eq!(all, (1..=40).collect::<Vec<_>>());
    let history = r.alias_history("race", "latest-good").await.unwrap();
    assert_eq!(history.len(), 40);
    assert_eq!(
        history.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=40).collect::<Vec<_>>()
    );
    // Each move's `previous` is the version the move before it set: no lost update.
    for w in history.windows(2) {
        assert_eq!(w[1].previous, w[0].version);
    }
}

/// A retried register with the same request id returns the version the first
/// attempt created; concurrent duplicates racing with ordinary registers agree
/// on one version; a request id reused for another package is refused.
pub async fn idempotent_register(backend: &dyn Backend) {
    let r = backend.registry("idempotent_register");
    let p = package("idem", 1.0);
    assert_eq!(r.register_idempotent(&p, "req-1").await.unwrap(), 1);
    assert_eq!(r.register_idempotent(&p, "req-1").await.unwrap(), 1);
    assert_eq!(
        backend
            .registry("idempotent_register")
            .register_idempotent(&p, "req-1")
            .await
            .unwrap(),
        1
    );
    assert_eq!(r.list_versions("idem").await.unwrap().len(), 1);
    assert!(matches!(
        r.register_idempotent(&package("idem", 2.0), "req-1").await,
        Err(Error::InvalidInput { .. })
    ));
    assert!(matches!(
        r.register_idempotent(&p, "../req").await,
        Err(Error::InvalidInput { .. })
    ));

    let dup = package("idem", 3.0);
    let mut duplicates = Vec::new();
    let mut others = Vec::new();
    for i in 0..8 {
        let (r, dup) = (backend.registry("idempotent_register"), dup.clone());
        duplicates.push(tokio::spawn(async move {
            r.register_idempotent(&dup, "req-2").await.unwrap()
        }));
        if i % 2 == 0 {
            let (r, other) = (
                backend.registry("idempotent_register"),
                package("idem", 10.0 + i as f32),
            );
            others.push(tokio::spawn(async move { r.register(&other).await.unwrap() }));
        }
    }
    let mut got = Vec::new();
    for h in duplicates {
        got.push(h.await.unwrap());
    }
    for h in others {
        h.await.unwrap();
    }
    assert!(got.iter().all(|v| *v == got[0]), "duplicates disagree: {got:?}");
    let versions = r.list_versions("idem").await.unwrap();
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        (1..=6).collect::<Vec<_>>()
    );
    let with_dup: Vec<u64> = versions
        .iter()
        .filter(|v| v.digest == dup.digest())
        .map(|v| v.version)
        .collect();
    assert_eq!(with_dup, vec![got[0]]);
}

/// Registering content that is already registered: the existing version comes
/// back, or a new one is tagged as its duplicate; other content registers as usual.
pub async fn deduplicated_register(backend: &dyn Backend) {
    use crate::{DUPLICATE_OF_TAG, OnDuplicate};
    let r = backend.registry("deduplicated_register");
    let first = package("dedup", 1.0);
    // The same content, built later by someone else with another description.
    let rebuilt = {
        let m = first.manifest();
        let mut b = PackageBuilder::new("dedup").model_config(m.model_config.clone());
        for name in first.file_names() {
            let role = m.files[&name].role;
            b = b.file(&name, role, first.read_file(&name).unwrap());
        }
        for (k, v) in &m.params {
            b = b.param(k, v.clone());
        }
        for (k, v) in &m.metrics {
            b = b.metric(k, *v);
        }
        b.code_version("abc123")
            .parent("base", 1)
            .creator("someone-else")
            .description("rebuilt on another machine")
            .created_at_ms(m.created_at_ms + 86_400_000)
            .build()
            .unwrap()
    };
    assert_ne!(first.digest(), rebuilt.digest(), "the package digest covers the time");
    assert_eq!(first.content_digest().unwrap(), rebuilt.content_digest().unwrap());

    let one = r
        .register_deduplicated(&first, OnDuplicate::ReturnExisting)
        .await
        .unwrap();
    assert_eq!((one.version, one.created, one.duplicate_of), (1, true, None));
    let again = r
        .register_deduplicated(&rebuilt, OnDuplicate::ReturnExisting)
        .await
        .unwrap();
    assert_eq!((again.version, again.created, again.duplicate_of), (1, false, Some(1)));
    assert_eq!(r.list_versions("dedup").await.unwrap().len(), 1);
    let tagged = r
        .register_deduplicated(&rebuilt, OnDuplicate::RegisterTagged)
        .await
        .unwrap();
    assert_eq!(
        (tagged.version, tagged.created, tagged.duplicate_of),
        (2, true, Some(1))
    );
    let other = r
        .register_deduplicated(&package("dedup", 2.0), OnDuplicate::ReturnExisting)
        .await
        .unwrap();
    assert_eq!((other.version, other.duplicate_of), (3, None));
    let versions = r.list_versions("dedup").await.unwrap();
    assert_eq!(versions[1].tags.get(DUPLICATE_OF_TAG).map(String::as_str), Some("1"));
    assert_eq!(versions[0].content_digest, Some(first.content_digest().unwrap()));
    assert_ne!(versions[2].content_digest, versions[0].content_digest);
}

/// 16 clients (as 16 processes would open the registry) register 3 versions
/// each of one model at once: 48 distinct, gap-free versions.
pub async fn independent_writers(backend: &dyn Backend) {
    let mut handles = Vec::new();
    for t in 0..16 {
        let r = backend.registry("independent_writers");
        handles.push(tokio::spawn(async move {
            let mut got = Vec::new();
            for i in 0..3 {
                got.push(r.register(&package("crowd", (t * 10 + i) as f32)).await.unwrap());
            }
            got
        }));
    }
    let mut all: Vec<u64> = Vec::new();
    for h in handles {
        all.extend(h.await.unwrap());
    }
    all.sort_unstable();
    assert_eq!(all, (1..=48).collect::<Vec<_>>());
    let r = backend.registry("independent_writers");
    assert_eq!(r.list_versions("crowd").await.unwrap().len(), 48);
    assert_eq!(r.resolve("crowd", &VersionSelector::Latest).await.unwrap(), 48);
}

/// A client that resolved an alias sees moves and deletions made by another
/// client (nothing it remembers may hide a newer move).
pub async fn alias_moves_seen_by_other_clients(backend: &dyn Backend) {
    let (writer, reader) = (
        backend.registry("alias_moves_seen_by_other_clients"),
        backend.registry("alias_moves_seen_by_other_clients"),
    );
    for s in [1.0, 2.0, 3.0] {
        writer.register(&package("m", s)).await.unwrap();
    }
    let alias = VersionSelector::Alias("champion".into());
    for v in [1, 2, 3, 1] {
        writer.set_alias("m", "champion", v).await.unwrap();
        assert_eq!(reader.resolve("m", &alias).await.unwrap(), v);
        assert_eq!(reader.resolve("m", &alias).await.unwrap(), v);
    }
    // The reader moves it too: both see the reader's move.
    assert_eq!(reader.set_alias("m", "champion", 2).await.unwrap().previous, Some(1));
    assert_eq!(writer.resolve("m", &alias).await.unwrap(), 2);
    writer.delete_alias("m", "champion").await.unwrap();
    assert!(matches!(reader.resolve("m", &alias).await, Err(Error::NotFound { .. })));
    assert_eq!(
        reader
            .list_versions("m")
            .await
            .unwrap()
            .iter()
            .map(|v| v.aliases.len())
            .sum::<usize>(),
        0
    );
}
