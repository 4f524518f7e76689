//! Charts drawn as SVG on the server, so they are there before the wasm loads: calls per period
//! (errors stacked in red), error rate, and latency (p50 and p95). Each has a title and a
//! description for screen readers, a native tooltip per point, and — once the page is live — a
//! readout of the point under the pointer.

use leptos::prelude::*;

use crate::api::usage::PointView;

const W: f64 = 720.0;
const H: f64 = 180.0;
const PAD_LEFT: f64 = 44.0;
const PAD_BOTTOM: f64 = 22.0;

/// Which series a chart shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartKind {
    Calls,
    ErrorRate,
    Latency,
}

/// `HH:MM` (UTC) for hourly steps, `MM-DD` otherwise.
pub fn point_label(at: i64, step: i64) -> String {
    let date = crate::components::format_date(at);
    if step < 86_400_000 {
        let minutes = at.div_euclid(60_000).rem_euclid(24 * 60);
        format!("{} {:02}:{:02}", &date[5..], minutes / 60, minutes % 60)
    } else {
        date[5..].to_owned()
    }
}

fn describe(kind: ChartKind, p: &PointView, step: i64) -> String {
    let n = &p.numbers;
    let when = point_label(p.at, step);
    match kind {
        ChartKind::Calls => format!("{when}: {} calls, {} errors", n.calls, n.errors),
        ChartKind::ErrorRate => format!("{when}: {:.1}% errors ({} of {})", n.error_rate(), n.errors, n.calls),
        ChartKind::Latency => format!(
            "{when}: p50 {}, p95 {}",
            n.p50_ms.map(|v| format!("≤ {v} ms")).unwrap_or_else(|| "—".into()),
            n.p95_ms.map(|v| format!("≤ {v} ms")).unwrap_or_else(|| "—".into())
        ),
    }
}

#[component]
pub fn Chart(
    kind: ChartKind,
    #[prop(into)] title: String,
    #[prop(into)] id: String,
    points: Vec<PointView>,
    step: i64,
) -> impl IntoView {
    let hovered = RwSignal::new(None::<usize>);
    let n = points.len().max(1) as f64;
    let slot = (W - PAD_LEFT) / n;
    let plot_h = H - PAD_BOTTOM - 8.0;
    let value = |p: &PointView| -> (f64, f64) {
        match kind {
            ChartKind::Calls => (p.numbers.calls as f64, p.numbers.errors as f64),
            ChartKind::ErrorRate => (p.numbers.error_rate(), 0.0),
            ChartKind::Latency => (p.numbers.p95_ms.unwrap_or(0) as f64, p.numbers.p50_ms.unwrap_or(0) as f64),
        }
    };
    let max = points.iter().map(|p| value(p).0.max(value(p).1)).fold(0.0_f64, f64::max);
    let top = if kind == ChartKind::ErrorRate { max.clamp(1.0, 100.0) } else { max.max(1.0) };
    let y = move |v: f64| 8.0 + plot_h - (v / top) * plot_h;
    let unit = match kind {
        ChartKind::Calls => "",
        ChartKind::ErrorRate => "%",
        ChartKind::Latency => " ms",
    };
    let summary = match kind {
        ChartKind::Calls => format!("Calls per period; the highest is {}.", max as i64),
        ChartKind::ErrorRate => format!("Share of calls that failed, per period; the highest is {max:.1}%."),
        ChartKind::Latency => {
            format!("Latency per period, p95 (upper line) and p50; the highest p95 is {} ms.", max as i64)
        }
    };
    let first = points.first().map(|p| point_label(p.at, step)).unwrap_or_default();
    let last = points.last().map(|p| point_label(p.at, step)).unwrap_or_default();
    let descriptions: Vec<String> = points.iter().map(|p| describe(kind, p, step)).collect();
    let readout = descriptions.clone();
    let line = |pick: fn(&PointView) -> f64| {
        points
            .iter()
            .enumerate()
            .map(|(i, p)| format!("{:.1},{:.1}", PAD_LEFT + slot * (i as f64 + 0.5), y(pick(p))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let shapes = match kind {
        ChartKind::Calls => points
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let x = PAD_LEFT + slot * i as f64 + slot * 0.15;
                let w = (slot * 0.7).max(1.0);
                let total_y = y(p.numbers.calls as f64);
                let err_y = y(p.numbers.errors as f64);
                view! {
                    <g>
                        <rect x=format!("{x:.1}") y=format!("{total_y:.1}") width=format!("{w:.1}") height=format!("{:.1}", (8.0 + plot_h - total_y).max(0.0)) class="fill-indigo-500" />
                        <rect x=format!("{x:.1}") y=format!("{err_y:.1}") width=format!("{w:.1}") height=format!("{:.1}", (8.0 + plot_h - err_y).max(0.0)) class="fill-rose-500" />
                    </g>
                }
                    .into_any()
            })
            .collect::<Vec<_>>(),
        ChartKind::ErrorRate => vec![
            view! { <polyline points=line(|p| p.numbers.error_rate()) fill="none" class="stroke-rose-500" stroke-width="2" /> }.into_any(),
        ],
        ChartKind::Latency => vec![
            view! { <polyline points=line(|p| p.numbers.p95_ms.unwrap_or(0) as f64) fill="none" class="stroke-amber-500" stroke-width="2" /> }.into_any(),
            view! { <polyline points=line(|p| p.numbers.p50_ms.unwrap_or(0) as f64) fill="none" class="stroke-indigo-500" stroke-width="2" /> }.into_any(),
        ],
    };
    let title_id = format!("{id}-title");
    let desc_id = format!("{id}-desc");
    let labelled_by = format!("{title_id} {desc_id}");
    view! {
        <figure class="rounded-xl border border-slate-200 bg-white p-4 shadow-sm" data-testid=format!("chart-{id}")>
            <figcaption class="mb-2 flex flex-wrap items-baseline justify-between gap-2">
                <span class="text-sm font-semibold text-slate-900">{title.clone()}</span>
                {(kind == ChartKind::Latency).then(|| view! {
                    <span class="text-xs text-slate-500"><span class="text-amber-600">"━ p95"</span>" · "<span class="text-indigo-600">"━ p50"</span></span>
                })}
                {(kind == ChartKind::Calls).then(|| view! {
                    <span class="text-xs text-slate-500"><span class="text-indigo-600">"■ calls"</span>" · "<span class="text-rose-600">"■ errors"</span></span>
                })}
            </figcaption>
            <svg viewBox=format!("0 0 {W} {H}") class="h-auto w-full" role="img" aria-labelledby=labelled_by>
                <title id=title_id>{title}</title>
                <desc id=desc_id>{summary}</desc>
                <line x1=PAD_LEFT y1=8 x2=PAD_LEFT y2=H - PAD_BOTTOM class="stroke-slate-300" />
                <line x1=PAD_LEFT y1=H - PAD_BOTTOM x2=W y2=H - PAD_BOTTOM class="stroke-slate-300" />
                <text x=PAD_LEFT - 6.0 y=14 text-anchor="end" class="fill-slate-500 text-[10px]">{format!("{}{unit}", if kind == ChartKind::ErrorRate { format!("{top:.0}") } else { format!("{}", top as i64) })}</text>
                <text x=PAD_LEFT - 6.0 y=H - PAD_BOTTOM text-anchor="end" class="fill-slate-500 text-[10px]">"0"</text>
                <text x=PAD_LEFT y=H - 6.0 class="fill-slate-500 text-[10px]">{first}</text>
                <text x=W y=H - 6.0 text-anchor="end" class="fill-slate-500 text-[10px]">{last}</text>
                {shapes}
                {descriptions
                    .into_iter()
                    .enumerate()
                    .map(|(i, d)| view! {
                        <rect x=format!("{:.1}", PAD_LEFT + slot * i as f64) y="0" width=format!("{slot:.1}") height=H - PAD_BOTTOM fill="transparent"
                            on:mouseenter=move |_| hovered.set(Some(i)) on:mouseleave=move |_| hovered.set(None)>
                            <title>{d}</title>
                        </rect>
                    })
                    .collect_view()}
            </svg>
            <p class="mt-1 h-4 text-xs text-slate-600" aria-live="polite" data-testid=format!("readout-{id}")>
                {move || hovered.get().and_then(|i| readout.get(i).cloned()).unwrap_or_default()}
            </p>
        </figure>
    }
}
