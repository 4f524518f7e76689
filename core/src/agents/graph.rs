//! Agent specs: a JSON graph of nodes (id, type, config) and edges between node ids, and the
//! validator that reports every problem with a JSON Pointer to where it is.

use std::collections::{HashMap, HashSet, VecDeque};

use serde::Serialize;
use serde_json::Value;

/// Node types an agent may use, and what their `config` must hold.
pub const NODE_TYPES: [&str; 7] = ["input", "output", "llm", "tool", "http", "transform", "branch"];

/// Most nodes and edges a spec may have.
const MAX_NODES: usize = 500;
const MAX_EDGES: usize = 2000;

/// One thing wrong with a spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// RFC 6901 JSON Pointer into the spec.
    pub pointer: String,
    pub message: String,
}

fn problem(pointer: impl Into<String>, message: impl Into<String>) -> Problem {
    Problem { pointer: pointer.into(), message: message.into() }
}

/// Every problem in `spec`; empty when the spec is valid.
pub fn validate(spec: &Value) -> Vec<Problem> {
    let mut problems = Vec::new();
    let Some(object) = spec.as_object() else {
        return vec![problem("", "The spec must be a JSON object with \"nodes\" and \"edges\".")];
    };
    for key in object.keys().filter(|k| *k != "nodes" && *k != "edges") {
        problems.push(problem(
            format!("/{}", escape(key)),
            format!("Unknown field \"{key}\"; a spec has only nodes and edges."),
        ));
    }
    let nodes = match object.get("nodes") {
        Some(Value::Array(nodes)) => nodes.as_slice(),
        Some(_) => {
            problems.push(problem("/nodes", "\"nodes\" must be an array."));
            &[]
        }
        None => {
            problems.push(problem("/nodes", "\"nodes\" is missing."));
            &[]
        }
    };
    let edges = match object.get("edges") {
        Some(Value::Array(edges)) => edges.as_slice(),
        Some(_) => {
            problems.push(problem("/edges", "\"edges\" must be an array."));
            &[]
        }
        None => &[],
    };
    if nodes.len() > MAX_NODES {
        problems.push(problem("/nodes", format!("At most {MAX_NODES} nodes.")));
        return problems;
    }
    if edges.len() > MAX_EDGES {
        problems.push(problem("/edges", format!("At most {MAX_EDGES} edges.")));
        return problems;
    }

    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, node) in nodes.iter().enumerate() {
        let at = format!("/nodes/{i}");
        let Some(node) = node.as_object() else {
            problems.push(problem(at, "A node must be an object with id, type and config."));
            continue;
        };
        match node.get("id").and_then(Value::as_str) {
            Some(id) if !id.trim().is_empty() && id.len() <= 100 => {
                if index.insert(id, i).is_some() {
                    problems.push(problem(format!("{at}/id"), format!("Duplicate node id \"{id}\".")));
                }
            }
            _ => problems.push(problem(
                format!("{at}/id"),
                "A node needs an \"id\": a non-empty string of up to 100 characters.",
            )),
        }
        let kind = node.get("type").and_then(Value::as_str);
        match kind {
            Some(k) if NODE_TYPES.contains(&k) => {}
            Some(k) => problems.push(problem(
                format!("{at}/type"),
                format!("Unknown node type \"{k}\"; use one of {}.", NODE_TYPES.join(", ")),
            )),
            None => problems.push(problem(format!("{at}/type"), "A node needs a \"type\".")),
        }
        let config = node.get("config");
        if let Some(config) = config
            && !config.is_object()
        {
            problems.push(problem(format!("{at}/config"), "\"config\" must be an object."));
            continue;
        }
        let config = config.and_then(Value::as_object);
        let text = |field: &str| config.and_then(|c| c.get(field)).and_then(Value::as_str);
        match kind {
            Some("llm") if text("model").is_none_or(str::is_empty) => {
                problems.push(problem(format!("{at}/config/model"), "An llm node needs config.model, a model name."));
            }
            Some("tool") if text("name").is_none_or(str::is_empty) => {
                problems.push(problem(format!("{at}/config/name"), "A tool node needs config.name, the tool to call."));
            }
            Some("http") if !text("url").is_some_and(|u| u.starts_with("https://") || u.starts_with("http://")) => {
                problems.push(problem(format!("{at}/config/url"), "An http node needs config.url, an http(s) URL."));
            }
            _ => {}
        }
    }

    let mut adjacency: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut indegree = vec![0usize; nodes.len()];
    for (i, edge) in edges.iter().enumerate() {
        let at = format!("/edges/{i}");
        let Some(edge) = edge.as_object() else {
            problems.push(problem(at, "An edge must be an object with from and to."));
            continue;
        };
        let mut ends = [None, None];
        for (slot, field) in ["from", "to"].into_iter().enumerate() {
            match edge.get(field).and_then(Value::as_str) {
                Some(id) => match index.get(id) {
                    Some(&n) => ends[slot] = Some(n),
                    None => problems.push(problem(format!("{at}/{field}"), format!("No node has the id \"{id}\"."))),
                },
                None => {
                    problems.push(problem(format!("{at}/{field}"), format!("An edge needs \"{field}\", a node id.")))
                }
            }
        }
        if let [Some(from), Some(to)] = ends {
            adjacency.entry(from).or_default().push(to);
            indegree[to] += 1;
        }
    }

    // Kahn's algorithm: whatever is never freed lies on a cycle (or behind one).
    let mut queue: VecDeque<usize> = (0..nodes.len()).filter(|&n| indegree[n] == 0).collect();
    let mut seen = HashSet::new();
    while let Some(n) = queue.pop_front() {
        seen.insert(n);
        for &next in adjacency.get(&n).map(Vec::as_slice).unwrap_or_default() {
            indegree[next] -= 1;
            if indegree[next] == 0 {
                queue.push_back(next);
            }
        }
    }
    for n in (0..nodes.len()).filter(|n| !seen.contains(n)) {
        let id = nodes[n].get("id").and_then(Value::as_str).unwrap_or("?");
        problems.push(problem(
            format!("/nodes/{n}"),
            format!("Node \"{id}\" is part of a cycle; agent graphs must be acyclic."),
        ));
    }
    problems
}

/// Escapes a key for a JSON Pointer (RFC 6901).
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_valid_graph_has_no_problems() {
        let spec = json!({"nodes": [
            {"id": "in", "type": "input", "config": {}},
            {"id": "think", "type": "llm", "config": {"model": "claude"}},
            {"id": "out", "type": "output"}
        ], "edges": [{"from": "in", "to": "think"}, {"from": "think", "to": "out"}]});
        assert_eq!(validate(&spec), vec![]);
    }

    #[test]
    fn reports_every_problem_with_a_pointer() {
        let spec = json!({"nodes": [
            {"id": "a", "type": "input"},
            {"id": "a", "type": "llm", "config": {}},
            {"id": "b", "type": "teleport"},
            {"id": "c", "type": "http", "config": {"url": "ftp://x"}},
            {"id": "d", "type": "transform"},
            {"id": "e", "type": "transform"}
        ], "edges": [{"from": "a", "to": "ghost"}, {"from": "d", "to": "e"}, {"from": "e", "to": "d"}]});
        let pointers: Vec<String> = validate(&spec).into_iter().map(|p| p.pointer).collect();
        for expected in [
            "/nodes/1/id",
            "/nodes/1/config/model",
            "/nodes/2/type",
            "/nodes/3/config/url",
            "/edges/0/to",
            "/nodes/4",
            "/nodes/5",
        ] {
            assert!(pointers.contains(&expected.to_owned()), "{expected} missing from {pointers:?}");
        }
    }

    #[test]
    fn rejects_non_objects() {
        assert_eq!(validate(&json!([1, 2])).len(), 1);
        assert!(!validate(&json!({"nodes": "x"})).is_empty());
        let pointers: Vec<String> = validate(&json!({"nodes": [], "a/b": 2})).into_iter().map(|p| p.pointer).collect();
        assert_eq!(pointers, ["/a~1b"]);
    }
}
