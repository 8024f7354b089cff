//! Companies, departments and the reporting line.
//!
//! A department tree is the reporting line: a department's heads answer for everything below
//! it. The functions here work on a flat list of (id, parent) pairs so that the store can load
//! a tree with one static query.

use std::collections::{HashMap, HashSet};

/// One department as the tree functions need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeptNode {
    pub id: i64,
    pub parent_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    #[error("department {0} would become its own ancestor")]
    Cycle(i64),
    #[error("parent department {0} does not exist in this company")]
    UnknownParent(i64),
}

/// The chain from `dept` up to the root, starting with `dept` itself.
pub fn ancestors(nodes: &[DeptNode], dept: i64) -> Vec<i64> {
    let parent: HashMap<i64, Option<i64>> = nodes.iter().map(|n| (n.id, n.parent_id)).collect();
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut cur = Some(dept);
    while let Some(id) = cur {
        if !seen.insert(id) || !parent.contains_key(&id) {
            break;
        }
        out.push(id);
        cur = parent[&id];
    }
    out
}

/// Checks that moving `dept` under `new_parent` keeps the tree a tree.
pub fn check_reparent(
    nodes: &[DeptNode],
    dept: i64,
    new_parent: Option<i64>,
) -> Result<(), TreeError> {
    let Some(p) = new_parent else { return Ok(()) };
    if !nodes.iter().any(|n| n.id == p) {
        return Err(TreeError::UnknownParent(p));
    }
    if ancestors(nodes, p).contains(&dept) {
        return Err(TreeError::Cycle(dept));
    }
    Ok(())
}

/// Depth-first order with depth, for rendering the tree as an indented list.
pub fn depth_first(nodes: &[DeptNode]) -> Vec<(i64, usize)> {
    let mut children: HashMap<Option<i64>, Vec<i64>> = HashMap::new();
    for n in nodes {
        children.entry(n.parent_id).or_default().push(n.id);
    }
    for v in children.values_mut() {
        v.sort_unstable();
    }
    let mut out = Vec::new();
    let mut stack: Vec<(i64, usize)> = children
        .get(&None)
        .map(|v| v.iter().rev().map(|&id| (id, 0)).collect())
        .unwrap_or_default();
    let mut seen = HashSet::new();
    while let Some((id, depth)) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        out.push((id, depth));
        if let Some(kids) = children.get(&Some(id)) {
            stack.extend(kids.iter().rev().map(|&k| (k, depth + 1)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> Vec<DeptNode> {
        // 1 経営 ─ 2 オペレーション ─ 4 コールセンター
        //        └ 3 システム
        vec![
            DeptNode {
                id: 1,
                parent_id: None,
            },
            DeptNode {
                id: 2,
                parent_id: Some(1),
            },
            DeptNode {
                id: 3,
                parent_id: Some(1),
            },
            DeptNode {
                id: 4,
                parent_id: Some(2),
            },
        ]
    }

    #[test]
    fn ancestors_walk_the_reporting_line() {
        assert_eq!(ancestors(&tree(), 4), vec![4, 2, 1]);
        assert_eq!(ancestors(&tree(), 1), vec![1]);
        assert!(ancestors(&tree(), 99).is_empty());
    }

    #[test]
    fn reparent_refuses_cycles_and_unknown_parents() {
        assert_eq!(
            check_reparent(&tree(), 2, Some(4)),
            Err(TreeError::Cycle(2))
        );
        assert_eq!(
            check_reparent(&tree(), 2, Some(2)),
            Err(TreeError::Cycle(2))
        );
        assert_eq!(
            check_reparent(&tree(), 2, Some(9)),
            Err(TreeError::UnknownParent(9))
        );
        assert_eq!(check_reparent(&tree(), 4, Some(3)), Ok(()));
        assert_eq!(check_reparent(&tree(), 4, None), Ok(()));
    }

    #[test]
    fn depth_first_order() {
        assert_eq!(depth_first(&tree()), vec![(1, 0), (2, 1), (4, 2), (3, 1)]);
    }
}
