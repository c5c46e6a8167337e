// kube-apiserver's /metrics as the run needs it: labelled histograms, their deltas, and histogram_quantile.
/*
 * Written here, not taken from npm: parse-prometheus-text-format folds every labelled series of a histogram into
 * one, and prom2javascript rejects a whole document once a sample is NaN or -Inf, as /metrics documents hold.
 */

export type Labels = Readonly<Record<string, string>>;
export interface Sample {
    readonly name: string;
    readonly labels: Labels;
    readonly value: number;
}
export interface Bucket {
    readonly le: number;
    readonly count: number;
}
export interface Histogram {
    readonly labels: Labels;
    readonly buckets: readonly Bucket[];
    readonly sum: number;
    readonly count: number;
}

/** A sample value or an `le` bound as the text format spells it: Go's float formatting plus +Inf, -Inf and NaN. */
export function parseValue(text: string): number {
    switch (text) {
        case "+Inf":
        case "Inf":
            return Infinity;
        case "-Inf":
            return -Infinity;
        case "NaN":
            return NaN;
        default: {
            const v = Number(text);
            if (text === "" || Number.isNaN(v)) {
                throw new Error(`not a sample value: ${JSON.stringify(text)}`);
            }
            return v;
        }
    }
}

/** Reads `{k="v",...}` from `line` at `start` (the brace); values may hold escaped quotes, backslashes, newlines. */
function readLabels(line: string, start: number): { labels: Record<string, string>; end: number } {
    const labels: Record<string, string> = {};
    let i = start + 1;
    for (;;) {
        while (line[i] === " " || line[i] === ",") {
            i++;
        }
        if (line[i] === "}") {
            return { labels, end: i + 1 };
        }
        const eq = line.indexOf("=", i);
        if (eq < 0 || line[eq + 1] !== '"') {
            throw new Error(`bad label set: ${line.slice(0, 200)}`);
        }
        const key = line.slice(i, eq).trim();
        let value = "";
        for (i = eq + 2; i < line.length && line[i] !== '"'; i++) {
            if (line[i] === "\\") {
                const next = line[++i];
                value += next === "n" ? "\n" : next;
            } else {
                value += line[i];
            }
        }
        if (i >= line.length) {
            throw new Error(`unterminated label value: ${line.slice(0, 200)}`);
        }
        labels[key] = value;
        i++;
    }
}

/**
 * The samples of the text format (0.0.4) whose metric name `wanted` accepts; comments and other metrics are
 * skipped before their labels are read, since /metrics of a busy API server is megabytes.
 */
export function parseSamples(text: string, wanted: (name: string) => boolean = () => true): Sample[] {
    const samples: Sample[] = [];
    for (const raw of text.split("\n")) {
        const line = raw.trim();
        if (line === "" || line.startsWith("#")) {
            continue;
        }
        const nameEnd = line.search(/[{\s]/);
        const name = nameEnd < 0 ? line : line.slice(0, nameEnd);
        if (!wanted(name)) {
            continue;
        }
        let rest = nameEnd < 0 ? "" : line.slice(nameEnd);
        let labels: Record<string, string> = {};
        if (rest.startsWith("{")) {
            const read = readLabels(rest, 0);
            labels = read.labels;
            rest = rest.slice(read.end);
        }
        // value [timestamp]
        samples.push({ name, labels, value: parseValue(rest.trim().split(/\s+/)[0]) });
    }
    return samples;
}

/** A stable key of a label set, `le` aside, or only of `keys` when given. */
export function labelKey(labels: Labels, keys?: readonly string[]): string {
    const names = (keys ?? Object.keys(labels).filter((k) => k !== "le")).slice().sort();
    return names.map((k) => `${k}=${labels[k] ?? ""}`).join("\u0001");
}

/** One histogram per label set of `name`_bucket/_sum/_count, buckets in ascending `le`. */
export function histogramsOf(samples: readonly Sample[], name: string): Histogram[] {
    const byKey = new Map<string, { labels: Labels; buckets: Bucket[]; sum: number; count: number }>();
    const get = (labels: Labels) => {
        const key = labelKey(labels);
        let h = byKey.get(key);
        if (!h) {
            const { le: _le, ...rest } = labels;
            h = { labels: rest, buckets: [], sum: NaN, count: NaN };
            byKey.set(key, h);
        }
        return h;
    };
    for (const s of samples) {
        if (s.name === `${name}_bucket` && s.labels.le !== undefined) {
            get(s.labels).buckets.push({ le: parseValue(s.labels.le), count: s.value });
        } else if (s.name === `${name}_sum`) {
            get(s.labels).sum = s.value;
        } else if (s.name === `${name}_count`) {
            get(s.labels).count = s.value;
        }
    }
    for (const h of byKey.values()) {
        h.buckets.sort((a, b) => a.le - b.le);
    }
    return [...byKey.values()];
}

/** Parses a /metrics document for one histogram metric only. */
export function parseHistograms(text: string, name: string): Histogram[] {
    const names = new Set([`${name}_bucket`, `${name}_sum`, `${name}_count`]);
    return histogramsOf(
        parseSamples(text, (n) => names.has(n)),
        name,
    );
}

/**
 * What each series observed between two scrapes: bucket by bucket, after minus before. A series whose count went
 * down was reset (the API server restarted): its whole `after` is what it observed since, as Prometheus' increase()
 * takes it. Series with nothing observed are left out.
 */
export function histogramDeltas(before: readonly Histogram[], after: readonly Histogram[]): Histogram[] {
    const earlier = new Map(before.map((h) => [labelKey(h.labels), h]));
    const out: Histogram[] = [];
    for (const h of after) {
        const b = earlier.get(labelKey(h.labels));
        const reset =
            b !== undefined &&
            (h.count < b.count || h.buckets.some((x) => x.count < (b.buckets.find((y) => y.le === x.le)?.count ?? 0)));
        const delta: Histogram =
            !b || reset
                ? h
                : {
                      labels: h.labels,
                      buckets: h.buckets.map((x) => ({
                          le: x.le,
                          count: x.count - (b.buckets.find((y) => y.le === x.le)?.count ?? 0),
                      })),
                      sum: h.sum - b.sum,
                      count: h.count - b.count,
                  };
        if (delta.count > 0) {
            out.push(delta);
        }
    }
    return out;
}

/** Sums the series that agree on `keys` (others dropped), as `sum by (keys)` does; buckets are matched by `le`. */
export function sumBy(histograms: readonly Histogram[], keys: readonly string[]): Histogram[] {
    const groups = new Map<
        string,
        { labels: Record<string, string>; buckets: Map<number, number>; sum: number; count: number }
    >();
    for (const h of histograms) {
        const key = labelKey(h.labels, keys);
        let g = groups.get(key);
        if (!g) {
            g = {
                labels: Object.fromEntries(keys.map((k) => [k, h.labels[k] ?? ""])),
                buckets: new Map(),
                sum: 0,
                count: 0,
            };
            groups.set(key, g);
        }
        for (const b of h.buckets) {
            g.buckets.set(b.le, (g.buckets.get(b.le) ?? 0) + b.count);
        }
        g.sum += h.sum;
        g.count += h.count;
    }
    return [...groups.values()].map((g) => ({
        labels: g.labels,
        sum: g.sum,
        count: g.count,
        buckets: [...g.buckets.entries()].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le),
    }));
}

/**
 * Prometheus' histogram_quantile (promql/quantile.go, bucketQuantile): the rank q·total is found in the first
 * bucket whose cumulative count reaches it and interpolated linearly inside that bucket; the first bucket starts at
 * 0 (if its bound is positive), a rank in the +Inf bucket answers the highest finite bound, and no observations or
 * no +Inf bucket answer NaN. Counts that go down between buckets (a scrape racing an observation) are raised to
 * the one before, as Prometheus does.
 */
export function histogramQuantile(q: number, buckets: readonly Bucket[]): number {
    if (Number.isNaN(q)) {
        return NaN;
    }
    if (q < 0) {
        return -Infinity;
    }
    if (q > 1) {
        return Infinity;
    }
    const sorted = [...buckets].sort((a, b) => a.le - b.le);
    // Buckets of the same bound (from series summed together) are one.
    const b: { le: number; count: number }[] = [];
    for (const x of sorted) {
        const last = b[b.length - 1];
        if (last && last.le === x.le) {
            last.count += x.count;
        } else {
            b.push({ le: x.le, count: x.count });
        }
    }
    if (b.length < 2 || b[b.length - 1].le !== Infinity) {
        return NaN;
    }
    for (let i = 1; i < b.length; i++) {
        b[i].count = Math.max(b[i].count, b[i - 1].count);
    }
    const total = b[b.length - 1].count;
    if (total === 0) {
        return NaN;
    }
    let rank = q * total;
    let i = 0;
    while (i < b.length - 1 && b[i].count < rank) {
        i++;
    }
    if (i === b.length - 1) {
        return b[b.length - 2].le;
    }
    if (i === 0 && b[0].le <= 0) {
        return b[0].le;
    }
    let start = 0;
    let count = b[i].count;
    if (i > 0) {
        start = b[i - 1].le;
        count -= b[i - 1].count;
        rank -= b[i - 1].count;
    }
    return start + (b[i].le - start) * (rank / count);
}

/** The sum of `name`'s samples over every label set (`sum(name)`), NaN samples left out; undefined when it has none. */
export function sumOf(samples: readonly Sample[], name: string): number | undefined {
    let total: number | undefined;
    for (const s of samples) {
        if (s.name === name && !Number.isNaN(s.value)) {
            total = (total ?? 0) + s.value;
        }
    }
    return total;
}

/** The largest of `name`'s samples over every label set (`max(name)`); undefined when it has none. */
export function maxOf(samples: readonly Sample[], name: string): number | undefined {
    const values = samples.filter((s) => s.name === name && !Number.isNaN(s.value)).map((s) => s.value);
    return values.length > 0 ? Math.max(...values) : undefined;
}

/** `name`'s samples summed per value of `label` (`sum by (label)`); a sample without it counts under "". */
export function sumByLabel(samples: readonly Sample[], name: string, label: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of samples) {
        if (s.name === name && !Number.isNaN(s.value)) {
            const k = s.labels[label] ?? "";
            out[k] = (out[k] ?? 0) + s.value;
        }
    }
    return out;
}

/** What a counter counted between two readings, as increase() takes it: a drop is a reset, so all of `after` is new. */
export function counterIncrease(before: number, after: number): number {
    return after < before ? after : after - before;
}

/**
 * What each series of the counter `name` counted between two scrapes, series by series (a series new in `after`
 * counted all of it, as a labelled counter appears at its first event); sum them with sumOf or sumByLabel.
 */
export function increases(before: readonly Sample[], after: readonly Sample[], name: string): Sample[] {
    const earlier = new Map(before.filter((s) => s.name === name).map((s) => [labelKey(s.labels), s.value]));
    return after
        .filter((s) => s.name === name)
        .map((s) => ({
            name,
            labels: s.labels,
            value: counterIncrease(earlier.get(labelKey(s.labels)) ?? 0, s.value),
        }));
}
