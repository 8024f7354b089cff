//! `mamori-detect-train-names TRAIN.jsonl DEV.jsonl OUT.bin [--epochs N]`: trains the prose
//! name tagger (an averaged perceptron over the analyser's tokens, `prose.rs`) on sentences made
//! by `scripts/prose/corpora.py` from public corpora, reports span precision, recall and F1 on
//! DEV after each epoch, and writes the model of the best epoch to OUT.bin.
//!
//! Training sees exactly what detection sees: the same normalisation, the same candidate
//! windows, the same features; a name outside every window cannot be learned and is counted.
//! `SHOW=1` prints the dev set's misses and false finds; `RULE=1` scores the plain rule "a run
//! of IPADIC person-name tokens is a name" instead of the model, for comparison.

use mamori_detect::dict::dict;
use mamori_detect::normalize::normalize;
use mamori_detect::prose::{self, Context, Model, Tok, B, BUCKETS, I, LABELS, O};
use mamori_detect::testdata::Rng;
use serde::Deserialize;
use std::io::BufRead;
use std::process::ExitCode;

#[derive(Deserialize)]
struct Sentence {
    text: String,
    spans: Vec<(usize, usize)>,
    #[serde(default)]
    optional: Vec<(usize, usize)>,
}

/// One analysed window with its gold labels and gold spans (bytes, window-relative).
struct Window {
    toks: Vec<Tok<'static>>,
    gold: Vec<u8>,
    spans: Vec<(usize, usize)>,
    optional: Vec<(usize, usize)>,
}

struct Data {
    windows: Vec<Window>,
    /// Gold names, and how many of them lie in no window.
    names: usize,
    unreachable: usize,
}

fn load(path: &str, whole: bool) -> Result<Data, String> {
    let f = std::fs::File::open(path).map_err(|e| format!("{path}: {e}"))?;
    let mut data = Data {
        windows: Vec::new(),
        names: 0,
        unreachable: 0,
    };
    for (n, line) in std::io::BufReader::new(f).lines().enumerate() {
        let line = line.map_err(|e| format!("{path}: {e}"))?;
        if line.trim().is_empty() {
            continue;
        }
        let s: Sentence =
            serde_json::from_str(&line).map_err(|e| format!("{path}:{}: {e}", n + 1))?;
        // Leaked: the windows' tokens borrow it for the whole run of this tool.
        let text: &'static str = Box::leak(normalize(&s.text).into_boxed_str());
        // Character offsets to byte offsets (normalisation keeps one character per character).
        let mut at: Vec<usize> = text.char_indices().map(|(b, _)| b).collect();
        at.push(text.len());
        let to_bytes = |v: &[(usize, usize)]| -> Vec<(usize, usize)> {
            v.iter()
                .filter(|&&(a, b)| a < b && b < at.len())
                .map(|&(a, b)| (at[a], at[b]))
                .collect()
        };
        let spans = to_bytes(&s.spans);
        let optional = to_bytes(&s.optional);
        data.names += spans.len();
        let wins = prose::windows(text);
        let found = wins.clone();
        let wins = if whole { vec![(0, text.len())] } else { wins };
        for &(a, b) in &spans {
            if !found.iter().any(|&(ws, we)| ws <= a && b <= we) {
                if std::env::var_os("SHOW").is_some() {
                    eprintln!("OUT {} in {}", &text[a..b], text);
                }
                data.unreachable += 1;
            }
        }
        for (ws, we) in wins {
            let toks = prose::tokenize(&text[ws..we]);
            let inside = |v: &[(usize, usize)]| -> Vec<(usize, usize)> {
                v.iter()
                    .filter(|&&(a, b)| ws <= a && b <= we)
                    .map(|&(a, b)| (a - ws, b - ws))
                    .collect()
            };
            let wspans = inside(&spans);
            let gold = toks
                .iter()
                .map(|t| {
                    wspans
                        .iter()
                        .find(|&&(a, b)| t.start < b && a < t.end)
                        .map_or(O, |&(a, _)| if t.start <= a { B } else { I })
                })
                .collect();
            data.windows.push(Window {
                toks,
                gold,
                spans: wspans,
                optional: inside(&optional),
            });
        }
    }
    Ok(data)
}

/// Averaged perceptron with lazy averaging.
struct Trainer {
    model: Model,
    total: Vec<[f64; LABELS]>,
    stamp: Vec<[u64; LABELS]>,
    t: u64,
}

impl Trainer {
    fn new() -> Self {
        Trainer {
            model: Model::zeros(),
            total: vec![[0.0; LABELS]; BUCKETS],
            stamp: vec![[0; LABELS]; BUCKETS],
            t: 0,
        }
    }

    fn bump(&mut self, f: u32, label: u8, by: f32) {
        let (f, l) = (f as usize, label as usize);
        let w = self.model.w[f][l];
        self.total[f][l] += f64::from(w) * (self.t - self.stamp[f][l]) as f64;
        self.stamp[f][l] = self.t;
        self.model.w[f][l] = w + by;
    }

    fn train(&mut self, win: &Window) {
        let d = dict();
        let ctx = Context::new(&win.toks, d);
        let mut labels: Vec<u8> = Vec::with_capacity(win.toks.len());
        let mut feats = Vec::new();
        for i in 0..win.toks.len() {
            self.t += 1;
            let prev = labels.last().copied().unwrap_or(O);
            let prev2 = if i >= 2 { labels[i - 2] } else { O };
            ctx.features(i, prev, prev2, &mut feats);
            let s = self.model.scores(&feats);
            let mut pred = O;
            for l in [B, I] {
                if !(l == I && prev == O) && s[l as usize] > s[pred as usize] {
                    pred = l;
                }
            }
            let gold = win.gold[i];
            if pred != gold {
                for &f in &feats {
                    self.bump(f, gold, 1.0);
                    self.bump(f, pred, -1.0);
                }
            }
            labels.push(pred);
        }
    }

    fn averaged(&self) -> Model {
        let mut m = Model::zeros();
        for (i, row) in m.w.iter_mut().enumerate() {
            for (l, x) in row.iter_mut().enumerate() {
                let total = self.total[i][l]
                    + f64::from(self.model.w[i][l]) * (self.t - self.stamp[i][l]) as f64;
                *x = (total / self.t.max(1) as f64) as f32;
            }
        }
        m
    }
}

/// Precision, recall and F1 as `mamori-detect-score` counts them: a prediction is right when
/// it and an unused gold name on its line contain one another; a prediction on an OPTIONAL span
/// is not counted.
fn evaluate(model: &Model, data: &Data) -> (f64, f64, f64) {
    let d = dict();
    let show = std::env::var_os("SHOW").is_some();
    let rule_only = std::env::var_os("RULE").is_some();
    let (mut tp, mut fp) = (0usize, 0usize);
    for w in &data.windows {
        let ctx = Context::new(&w.toks, d);
        let labels = if rule_only {
            rule(&w.toks)
        } else {
            prose::tag(model, &ctx)
        };
        let text: String = w.toks.iter().map(|t| t.surface).collect();
        let mut used = vec![false; w.spans.len()];
        for sp in prose::spans(&text, &w.toks, &labels) {
            let contains =
                |(a, b): (usize, usize), (c, e): (usize, usize)| text[a..b].contains(&text[c..e]);
            let hit = w.spans.iter().enumerate().find(|&(k, &g)| {
                !used[k] && sp.0 < g.1 && g.0 < sp.1 && (contains(sp, g) || contains(g, sp))
            });
            if let Some((k, _)) = hit {
                used[k] = true;
                tp += 1;
            } else if !w.optional.iter().any(|&(a, b)| sp.0 < b && a < sp.1) {
                fp += 1;
                if show {
                    eprintln!("FP {} in {}", &text[sp.0..sp.1], text);
                }
            }
        }
        if show {
            for (k, g) in w.spans.iter().enumerate() {
                if !used[k] {
                    let toks: Vec<String> = w
                        .toks
                        .iter()
                        .filter(|t| t.start < g.1 && g.0 < t.end)
                        .map(|t| format!("{}[{}]", t.surface, t.pos))
                        .collect();
                    eprintln!("FN {} in {} :: {}", &text[g.0..g.1], text, toks.join(" "));
                }
            }
        }
    }
    let p = tp as f64 / (tp + fp).max(1) as f64;
    let r = tp as f64 / data.names.max(1) as f64;
    let f = if p + r > 0.0 {
        2.0 * p * r / (p + r)
    } else {
        0.0
    };
    (p, r, f)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        eprintln!("usage: mamori-detect-train-names TRAIN.jsonl DEV.jsonl OUT.bin [--epochs N]");
        return ExitCode::from(2);
    }
    let epochs: usize = args
        .iter()
        .position(|a| a == "--epochs")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(12);
    let whole = args.iter().any(|a| a == "--whole");
    let (train, dev) = match (load(&args[0], whole), load(&args[1], false)) {
        (Ok(t), Ok(d)) => (t, d),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    eprintln!(
        "train: {} windows, {} names ({} outside every window); dev: {} windows, {} names ({} outside)",
        train.windows.len(),
        train.names,
        train.unreachable,
        dev.windows.len(),
        dev.names,
        dev.unreachable
    );
    let mut trainer = Trainer::new();
    let mut order: Vec<usize> = (0..train.windows.len()).collect();
    let mut rng = Rng::new(16);
    let mut best: Option<(f64, Model)> = None;
    for epoch in 1..=epochs {
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i + 1));
        }
        for &i in &order {
            trainer.train(&train.windows[i]);
        }
        let mut model = trainer.averaged();
        // The bias of a name's first token that gives the best dev F1.
        let mut best_epoch = (f64::MIN, 0.0f32, (0.0, 0.0));
        for bias in [
            0.0f32, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0, 16.0, 18.0, 20.0, 24.0, 28.0, 32.0, 40.0,
        ] {
            model.bias = bias;
            let (p, r, f) = evaluate(&model, &dev);
            if f > best_epoch.0 {
                best_epoch = (f, bias, (p, r));
            }
        }
        let (f, bias, (p, r)) = best_epoch;
        model.bias = bias;
        eprintln!("epoch {epoch:>2}: dev P {p:.3} R {r:.3} F1 {f:.3} (bias {bias})");
        if best.as_ref().is_none_or(|(bf, _)| f > *bf) {
            best = Some((f, model));
        }
    }
    let Some((f, model)) = best else {
        eprintln!("no epochs");
        return ExitCode::from(2);
    };
    if let Err(e) = std::fs::write(&args[2], model.encode()) {
        eprintln!("{}: {e}", args[2]);
        return ExitCode::from(1);
    }
    eprintln!("wrote {} (dev F1 {f:.3})", args[2]);
    ExitCode::SUCCESS
}

fn rule(toks: &[Tok<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for t in toks {
        let name = t.pos.contains("人名") && !t.pos.contains("接尾");
        let prev = out.last().copied().unwrap_or(O);
        out.push(if !name {
            O
        } else if prev == O {
            B
        } else {
            I
        });
    }
    out
}
