// Parsers of one list item (a label, a taint, an extended resource), shared by the flat keys and each pool's fields.
import { HOLLOW_LABEL_KEY, STACK_LABEL_KEY, TAINT_EFFECTS, Taint, TaintEffect } from "./settings";
import { labelValueProblem, qualifiedNameProblem } from "./validate";

/** One item read: its value, or why it was refused (said with the item, the key and what is accepted). */
export type ItemResult<T> = { readonly value: T } | { readonly problem: string };

/**
 * Labels the program sets itself: the stack's and the seed's select the Nodes destroy removes, the pool's which pool
 * a Node belongs to; the zone and region labels are a pool's `zones`/`region` when it sets them.
 */
export function labelItem(item: string, seen: ReadonlyMap<string, string>, reserved: readonly string[]): ItemResult<[string, string]> {
    const eq = item.indexOf("=");
    const key = eq < 0 ? item : item.slice(0, eq);
    const value = eq < 0 ? "" : item.slice(eq + 1);
    const problem = eq < 0 ? "must be key=value" : qualifiedNameProblem(key) ?? labelValueProblem(value)
        ?? (key === STACK_LABEL_KEY || key === HOLLOW_LABEL_KEY || reserved.includes(key)
            ? `${key} is set by this program (it selects the Nodes destroy removes, or names their pool and zone)` : undefined)
        ?? (seen.has(key) ? `label ${key} is given twice` : undefined);
    return problem === undefined ? { value: [key, value] } : { problem };
}

export function taintItem(item: string): ItemResult<Taint> {
    const m = /^([^=:]+)(=([^:]*))?:([^:]+)$/.exec(item);
    const problem = !m ? "must be key[=value]:Effect"
        : qualifiedNameProblem(m[1]) ?? labelValueProblem(m[3] ?? "")
        ?? (!(TAINT_EFFECTS as readonly string[]).includes(m[4]) ? `effect must be one of ${TAINT_EFFECTS.join(", ")}` : undefined);
    return problem !== undefined || !m ? { problem: problem ?? "must be key[=value]:Effect" }
        : { value: { key: m[1], value: m[3] ?? "", effect: m[4] as TaintEffect } };
}

export function extendedResourceItem(item: string, seen: ReadonlyMap<string, string>): ItemResult<[string, string]> {
    const m = /^([^=]+)=(\d+)$/.exec(item);
    const problem = !m ? "must be name=count with a whole count, e.g. example.com/gpu=8"
        : qualifiedNameProblem(m[1]) ?? (!m[1].includes("/") ? "the name needs a domain prefix, e.g. example.com/gpu" : undefined)
        ?? (/(^|\.)kubernetes\.io\//.test(m[1]) && !m[1].startsWith("requests.") ? "kubernetes.io/ resource names are reserved" : undefined)
        ?? (seen.has(m[1]) ? `resource ${m[1]} is given twice` : undefined);
    return problem !== undefined || !m ? { problem: problem ?? "must be name=count" } : { value: [m[1], m[2]] };
}

/** Reads every item of a list: values in order, each refused item reported through `bad`. */
export function readItems<T>(items: readonly string[], parse: (item: string) => ItemResult<T>, bad: (item: string, problem: string) => void): T[] {
    const out: T[] = [];
    for (const item of items) {
        const r = parse(item);
        if ("problem" in r) {
            bad(item, r.problem);
        } else {
            out.push(r.value);
        }
    }
    return out;
}

/** Labels or extended resources, keyed and sorted by name; a duplicate is refused. */
export function readPairs(items: readonly string[], parse: (item: string, seen: ReadonlyMap<string, string>) => ItemResult<[string, string]>,
    bad: (item: string, problem: string) => void): [string, string][] {
    const seen = new Map<string, string>();
    for (const item of items) {
        const r = parse(item, seen);
        if ("problem" in r) {
            bad(item, r.problem);
        } else {
            seen.set(r.value[0], r.value[1]);
        }
    }
    return [...seen.entries()].sort(([a], [b]) => a.localeCompare(b));
}

export const sortTaints = (taints: readonly Taint[]) => [...taints].sort((a, b) => `${a.key}:${a.effect}`.localeCompare(`${b.key}:${b.effect}`));
