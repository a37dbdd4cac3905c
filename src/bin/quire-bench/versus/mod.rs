//! `--versus`: Quire's search API and another search server (tantivy-cli's
//! `serve`) over the same exported cards, loaded with the same three query
//! mixes (`mixes.rs`), one mix at a time, at the same concurrency, the
//! servers taking turns every two seconds (a shared machine's other work
//! then weighs on both alike); the better of keep-alive and a connection
//! per request for each server.
//! Prints each figure and a markdown table with the ratios. The servers
//! are started by `benches/vs-tantivy`, which also times both builds.

mod load;
mod mixes;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;

use crate::Figures;
use load::{Connections, Run};

pub struct Setup {
    pub quire: SocketAddr,
    /// The other server and its search path, to which the encoded query
    /// is appended; none measures Quire alone (the CI smoke run).
    pub peer: Option<(SocketAddr, String)>,
    pub cards_json: PathBuf,
    pub per_mix: usize,
    pub clients: usize,
    pub duration: Duration,
    pub seed: u64,
}

/// One server's side of one mix.
struct Side {
    found: usize,
    best: Run,
}

pub async fn run(setup: &Setup, figures: &mut Figures) -> Result<()> {
    let corpus = mixes::read(&setup.cards_json, setup.per_mix * 3, setup.seed)?;
    let mixes = mixes::draw(&corpus, setup.per_mix, setup.seed);
    // Beside the cards, to see what was asked (and ask it again by hand).
    let listed = setup.cards_json.with_extension("queries.json");
    let by_mix: serde_json::Map<String, serde_json::Value> = mixes
        .each()
        .iter()
        .map(|(mix, queries)| (mix.to_string(), serde_json::json!(queries)))
        .collect();
    std::fs::write(&listed, serde_json::to_string_pretty(&by_mix)?)?;
    let mut rows = Vec::new();
    for (mix, queries) in mixes.each() {
        if queries.is_empty() {
            anyhow::bail!("the corpus gave no {mix} query");
        }
        eprintln!(
            "{mix}: {} queries, e.g. {:?}",
            queries.len(),
            &queries[..queries.len().min(3)]
        );
        let encoded: Vec<String> = queries
            .iter()
            .map(|q| quire::server::urls::encode_component(q))
            .collect();
        let paths = |prefix: &str| -> Arc<Vec<String>> {
            Arc::new(encoded.iter().map(|q| format!("{prefix}{q}")).collect())
        };
        let mut servers = vec![(setup.quire, paths("/api/v1/search?limit=10&q="))];
        if let Some((addr, prefix)) = &setup.peer {
            servers.push((*addr, paths(prefix)));
        }
        let sides = measure(&servers, setup).await?;
        for (side, who) in sides.iter().zip(["quire", "peer"]) {
            report(figures, &format!("versus_{mix}_{who}"), side, queries.len());
        }
        if let [quire, peer] = &sides[..] {
            figures.add(
                &format!("versus_{mix}_ratio"),
                quire.best.rate() / peer.best.rate(),
                "x",
            );
        }
        rows.push(row(mix, queries.len(), &sides[0], sides.get(1)));
    }
    println!(
        "\n{} connections, {:?} per server and way of connecting (the servers \
         taking turns every {SLICE:?}), the better way shown (ka: keep-alive, \
         pr: a connection per request)\n",
        setup.clients, setup.duration
    );
    println!(
        "| mix | Quire req/s | p50 | p99 | found | tantivy-cli req/s | p50 | p99 | found | req/s ratio | p99 ratio |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for row in rows {
        println!("{row}");
    }
    Ok(())
}

/// The servers take turns this long each, so that other work on a shared
/// machine weighs on all of them alike.
const SLICE: Duration = Duration::from_secs(2);

/// Each query once on each server (counting those that find something,
/// and warming up), then the closed loop both ways, the servers taking
/// turns; for each server the faster way is kept.
async fn measure(servers: &[(SocketAddr, Arc<Vec<String>>)], setup: &Setup) -> Result<Vec<Side>> {
    let mut found = Vec::new();
    for (addr, paths) in servers {
        found.push(load::answered(*addr, paths).await?);
    }
    let turns = (setup.duration.as_secs_f64() / SLICE.as_secs_f64())
        .ceil()
        .max(1.0);
    let turn = setup.duration.div_f64(turns);
    let mut best: Vec<Option<Run>> = servers.iter().map(|_| None).collect();
    for connections in [Connections::KeepAlive, Connections::PerRequest] {
        let mut runs: Vec<Option<Run>> = servers.iter().map(|_| None).collect();
        for _ in 0..turns as usize {
            for ((addr, paths), total) in servers.iter().zip(&mut runs) {
                let run = load::closed_loop(*addr, paths.clone(), setup.clients, turn, connections)
                    .await?;
                *total = Some(match total.take() {
                    Some(earlier) => earlier.merge(run),
                    None => run,
                });
            }
        }
        for ((addr, _), (run, best)) in servers.iter().zip(runs.into_iter().zip(&mut best)) {
            let Some(run) = run else { continue };
            eprintln!(
                "  {addr} {}: {:.0} req/s, p99 {:.2} ms",
                connections.name(),
                run.rate(),
                ms(run.p(99.0))
            );
            if best.as_ref().is_none_or(|b| run.rate() > b.rate()) {
                *best = Some(run);
            }
        }
    }
    found
        .into_iter()
        .zip(best)
        .map(|(found, best)| {
            let best = best.ok_or_else(|| anyhow::anyhow!("no run"))?;
            Ok(Side { found, best })
        })
        .collect()
}

fn report(figures: &mut Figures, name: &str, side: &Side, queries: usize) {
    figures.add(&format!("{name}_rate"), side.best.rate(), "requests/s");
    figures.add(&format!("{name}_p50"), ms(side.best.p(50.0)), "ms");
    figures.add(&format!("{name}_p99"), ms(side.best.p(99.0)), "ms");
    figures.add(
        &format!("{name}_found"),
        side.found as f64,
        &format!("of {queries} queries"),
    );
    figures.add(
        &format!("{name}_keep_alive"),
        f64::from(u8::from(side.best.connections == Connections::KeepAlive)),
        "(1: keep-alive was faster)",
    );
}

fn row(mix: &str, queries: usize, quire: &Side, peer: Option<&Side>) -> String {
    let cells = |side: &Side| {
        format!(
            "{:.0} ({}) | {:.2} ms | {:.2} ms | {}/{queries}",
            side.best.rate(),
            match side.best.connections {
                Connections::KeepAlive => "ka",
                Connections::PerRequest => "pr",
            },
            ms(side.best.p(50.0)),
            ms(side.best.p(99.0)),
            side.found
        )
    };
    match peer {
        Some(peer) => format!(
            "| {mix} | {} | {} | {:.2} | {:.2} |",
            cells(quire),
            cells(peer),
            quire.best.rate() / peer.best.rate(),
            ms(quire.best.p(99.0)) / ms(peer.best.p(99.0)),
        ),
        None => format!("| {mix} | {} | – | – | – | – | – | – |", cells(quire)),
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
