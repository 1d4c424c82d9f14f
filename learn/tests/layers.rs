//! The learning crate is layered one way: plain data types at the bottom (ensemble weights,
//! Adam moments, matmul precision, …), kernels above them, learners (dynamics, trainer, SAC)
//! above those. This reads the crate's sources and fails on an import cycle between its
//! top-level modules, or on a data type importing from the kernels or a learner.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level modules each module imports (`crate::m` anywhere; `super::m` from a top-level
/// file or a folder's `mod.rs`), outside test code.
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path.strip_prefix(&src).unwrap().to_string_lossy().replace('\\', "/");
            if !rel.ends_with(".rs") || rel == "lib.rs" || rel.contains("test") {
                continue;
            }
            let top = rel.split('/').next().unwrap().trim_end_matches(".rs").to_string();
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]\nmod tests").next().unwrap();
            let code: String = code.lines().map(|l| l.split("//").next().unwrap()).collect::<Vec<_>>().join("\n");
            let mut prefixes = vec!["crate::"];
            if !rel.contains('/') || rel.ends_with("/mod.rs") {
                prefixes.push("super::");
            }
            let deps = graph.entry(top.clone()).or_default();
            for prefix in prefixes {
                for (i, _) in code.match_indices(prefix) {
                    let name: String = code[i + prefix.len()..].chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
                    if !name.is_empty() && name != top {
                        deps.insert(name);
                    }
                }
            }
        }
    }
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    graph.values_mut().for_each(|deps| deps.retain(|d| modules.contains(d)));
    graph
}

/// Every module `from` reaches through imports.
fn reachable(graph: &BTreeMap<String, BTreeSet<String>>, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<&str> = graph[from].iter().map(String::as_str).collect();
    while let Some(m) = todo.pop() {
        if seen.insert(m.to_string()) {
            todo.extend(graph[m].iter().map(String::as_str));
        }
    }
    seen
}

#[test]
fn top_level_modules_import_each_other_without_cycles() {
    let graph = module_graph();
    assert!(graph.len() > 10 && graph.contains_key("kernels"), "the source walk found {:?}", graph.keys());
    for module in graph.keys() {
        assert!(!reachable(&graph, module).contains(module), "{module} imports itself through {:?}", graph[module]);
    }
}

#[test]
fn data_types_sit_below_the_kernels_and_the_learners() {
    let graph = module_graph();
    let above = ["kernels", "dynamics", "trainer", "sac", "value_grad", "losses", "snapshot"];
    for data in ["activation", "matmul", "ensemble", "adam", "host", "normalizer", "replay", "choice"] {
        let reached = reachable(&graph, data);
        let bad: Vec<_> = above.iter().filter(|m| reached.contains(**m)).collect();
        assert!(bad.is_empty(), "{data} reaches {bad:?}");
    }
}
