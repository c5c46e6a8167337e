// SVG charts of a run with Observable Plot on linkedom's DOM, one function per kind so that bench/ can draw them too.
import * as Plot from "@observablehq/plot";
import { parseHTML } from "linkedom";

const WIDTH = 860;
const HEIGHT = 360;

/**
 * Renders Plot's options to standalone SVG text, titled. Plot's own title and legends are HTML around the <svg> (a
 * <figure>), which an .svg file cannot hold: the title and a legend of series are drawn as text marks instead, and
 * the <svg> gets the namespace an HTML document leaves out.
 */
export function renderSvg(title: string, options: Plot.PlotOptions, series: readonly string[] = []): string {
    const { document } = parseHTML("<!doctype html><html><body></body></html>");
    const legend = series.map((name, i) =>
        Plot.text([name], {
            text: (d: string) => d,
            fill: (d: string) => d,
            frameAnchor: "top-right",
            dx: -6,
            dy: 6 + i * 15,
            textAnchor: "end",
            fontWeight: "bold",
        }),
    );
    const el = Plot.plot({
        width: WIDTH,
        height: HEIGHT,
        marginTop: 40,
        marginLeft: 64,
        style: { background: "white", fontSize: "12px" },
        ...options,
        y: { labelAnchor: "center", ...options.y },
        marks: [
            ...(options.marks ?? []),
            Plot.text([title], {
                frameAnchor: "top-left",
                dy: -28,
                fontSize: 15,
                fontWeight: "bold",
                textAnchor: "start",
            }),
            ...legend,
        ],
        document: document as unknown as Document,
    }) as unknown as Element;
    if (el.tagName.toLowerCase() !== "svg") {
        throw new Error(
            `Plot drew a <${el.tagName.toLowerCase()}>, not a bare <svg>: a title or legend option slipped in`,
        );
    }
    el.setAttribute("xmlns", "http://www.w3.org/2000/svg");
    return el.outerHTML;
}

/** Reference lines of a distribution: its percentiles and the bound it is held to. */
export interface Marker {
    readonly label: string;
    readonly value: number;
    readonly color: string;
}

/** A latency distribution in seconds: a histogram of the samples with its percentiles and the SLO's bound. */
export function latencyDistributionSvg(
    title: string,
    samplesSeconds: readonly number[],
    markers: readonly Marker[],
): string {
    const marks: Plot.Markish[] = [
        Plot.rectY(samplesSeconds, {
            ...Plot.binX({ y: "count" }, { x: (d: number) => d, thresholds: 40 }),
            fill: "#4e79a7",
        }),
        Plot.ruleY([0]),
        Plot.ruleX(markers, { x: "value", stroke: "color", strokeDasharray: "4,3" }),
        // One mark per line, each a row lower, so that close percentiles do not print over each other.
        ...markers.map((m, i) =>
            Plot.text([m], {
                x: "value",
                text: (d: Marker) => `${d.label} ${d.value.toFixed(2)} s`,
                frameAnchor: "top",
                dy: 4 + i * 15,
                dx: 4,
                textAnchor: "start",
                fill: "color",
            }),
        ),
    ];
    // From 0, and wide enough for the rightmost line's label.
    const right = Math.max(0.001, ...samplesSeconds, ...markers.map((m) => m.value)) * 1.15;
    return renderSvg(title, {
        x: { label: "seconds", grid: true, domain: [0, right] },
        y: { label: "pods", grid: true },
        marks,
    });
}

/** Counts over the run's seconds, one line per series (pods bound and Running; Ready Nodes). */
export function countsOverTimeSvg(
    title: string,
    points: readonly { t: number; series: string; value: number }[],
    yLabel: string,
    events: readonly { t: number; label: string }[] = [],
): string {
    return renderSvg(
        title,
        {
            x: { label: "seconds into the run", grid: true },
            y: { label: yLabel, grid: true },
            color: { type: "categorical" },
            marks: [
                Plot.ruleY([0]),
                Plot.lineY(points, { x: "t", y: "value", stroke: "series", curve: "step-after" }),
                Plot.ruleX(events, { x: "t", stroke: "#999", strokeDasharray: "2,3" }),
                Plot.text(events, {
                    x: "t",
                    text: "label",
                    frameAnchor: "bottom",
                    dy: -4,
                    textAnchor: "start",
                    dx: 3,
                    fill: "#666",
                }),
            ],
        },
        [...new Set(points.map((p) => p.series))],
    );
}

/** Pods scheduled per second in each window, with the average over the windows that had work. */
export function throughputSvg(
    title: string,
    windows: readonly { t: number; perSecond: number }[],
    average: number,
): string {
    return renderSvg(title, {
        x: { label: "seconds into the run", grid: true },
        y: { label: "pods scheduled per second", grid: true },
        marks: [
            Plot.rectY(windows, {
                x1: "t",
                x2: (w: { t: number }) => w.t + 5,
                y: "perSecond",
                fill: "#59a14f",
                inset: 0.5,
            }),
            Plot.ruleY([0]),
            Plot.ruleY([average], { stroke: "#e15759", strokeDasharray: "4,3" }),
            Plot.text([average], {
                y: (d: number) => d,
                text: (d: number) => `average ${d.toFixed(1)}/s`,
                frameAnchor: "right",
                dy: -6,
                fill: "#e15759",
            }),
        ],
    });
}

/** p99 latency of the busiest API calls per scrape interval, on a log scale, with the SLO's bounds as rules. */
export function apiLatencySvg(
    title: string,
    points: readonly { t: number; call: string; p99: number }[],
    bounds: readonly number[],
): string {
    const positive = points.filter((p) => p.p99 > 0);
    return renderSvg(
        title,
        {
            height: HEIGHT + 80,
            x: { label: "seconds into the run", grid: true },
            y: { label: "p99 seconds (log)", type: "log", grid: true, tickFormat: "~g" },
            color: { type: "categorical" },
            marks: [
                Plot.lineY(positive, { x: "t", y: "p99", stroke: "call", marker: "dot" }),
                Plot.ruleY(bounds, { stroke: "#e15759", strokeDasharray: "4,3" }),
                Plot.text(bounds, {
                    y: (d: number) => d,
                    text: (d: number) => `SLO ${d} s`,
                    frameAnchor: "left",
                    dy: -6,
                    dx: 4,
                    fill: "#e15759",
                }),
            ],
        },
        [...new Set(positive.map((p) => p.call))],
    );
}

/** One figure against a size (seconds against N), a line with dots per series, optionally on a log scale. */
export function scalingSvg(
    title: string,
    points: readonly { x: number; series: string; y: number }[],
    xLabel: string,
    yLabel: string,
    logY = false,
): string {
    return renderSvg(
        title,
        {
            x: { label: xLabel, grid: true },
            y: { label: yLabel, grid: true, ...(logY ? { type: "log" as const, tickFormat: "~g" } : {}) },
            color: { type: "categorical" },
            marks: [Plot.lineY(points, { x: "x", y: "y", stroke: "series", marker: "dot" })],
        },
        [...new Set(points.map((p) => p.series))],
    );
}
