// The `pools` key: every field of a pool declared once (reader, defaults, docs), and the reader of the whole list.
import { DEFAULT_POOL_NAME, poolProxyResources } from "./defaults";
import { extendedResourceItem, ItemResult, labelItem, readItems, readPairs, sortTaints, taintItem } from "./items";
import type { Reading } from "./readers";
import { LAST_WORKLOAD_SUFFIX } from "../hollow/names";
import { NODE_CAPACITY_FLAG, POD_CIDR_LOOKUP_FLAG } from "../image/fleetFlags";
import {
    ImageSource, MAX_NODES_PER_POD, PoolFallback, MAX_POOLS, MAX_REPLICAS, MAX_WORKLOAD_NAME, NodeCapacity, POOL_LABEL_KEY, PoolSettings,
    REGION_LABEL_KEY, Taint, ZONE_LABEL_KEY,
} from "./settings";
import { DNS1123_LABEL, editDistance, isQuantity, labelValueProblem } from "./validate";

/** Labels a pool's Nodes get from the program: refused in `nodeLabels` and in a pool's `labels`. */
export const POOL_SET_LABELS: readonly string[] = [POOL_LABEL_KEY, ZONE_LABEL_KEY, REGION_LABEL_KEY];
/** A pool name ends up in workload, pod and Node names; `last` is the suffix of the workload holding a last pod. */
const RESERVED_POOL_NAMES = ["last"];


type Parse<T> = (value: unknown, fallback: PoolFallback) => ItemResult<T>;
interface PoolField<T> {
    /** As the README says it: the default and what is accepted. */
    readonly default: string;
    readonly accepted: string;
    readonly parse: Parse<T>;
    /** The value when the field is left out; undefined: required. */
    readonly fallback?: (fallback: PoolFallback) => T;
}

const ok = <T>(value: T): ItemResult<T> => ({ value });
const no = (problem: string): ItemResult<never> => ({ problem });
const wholeNumber = (v: unknown) => (typeof v === "number" ? v : typeof v === "string" && /^\s*\d+\s*$/.test(v) ? Number(v) : undefined);
function int(min: number, max: number): Parse<number> {
    return (v) => {
        const n = wholeNumber(v);
        return n !== undefined && Number.isInteger(n) && n >= min && n <= max ? ok(n) : no(`must be a whole number from ${min} to ${max}`);
    };
}
function quantity(v: unknown): ItemResult<string> {
    const s = typeof v === "number" ? String(v) : v;
    return typeof s === "string" && isQuantity(s) ? ok(s) : no("must be a Kubernetes quantity such as 40m, 0.5, 100Mi or 1Gi");
}
function strings(v: unknown): ItemResult<string[]> {
    return Array.isArray(v) && v.every((e) => typeof e === "string") ? ok(v as string[]) : no("must be a list of strings");
}
/** A list field whose items each may be refused: all item problems joined into one, item by item. */
function items<T>(read: (list: string[], bad: (item: string, problem: string) => void) => T): Parse<T> {
    return (v) => {
        const list = strings(v);
        if ("problem" in list) {
            return list;
        }
        const problems: string[] = [];
        const value = read(list.value, (item, problem) => problems.push(`${JSON.stringify(item)} ${problem}`));
        return problems.length > 0 ? no(problems.join("; ")) : ok(value);
    };
}

const CAPACITY_FIELDS = ["cpu", "memory", "ephemeralStorage"] as const;
function capacity(v: unknown): ItemResult<NodeCapacity> {
    if (v === null || typeof v !== "object" || Array.isArray(v)) {
        return no(`must be an object with any of ${CAPACITY_FIELDS.join(", ")}`);
    }
    const problems: string[] = [];
    const out: Record<string, string> = {};
    for (const [k, raw] of Object.entries(v as Record<string, unknown>)) {
        if (!(CAPACITY_FIELDS as readonly string[]).includes(k)) {
            problems.push(`${k} is not a capacity field (${CAPACITY_FIELDS.join(", ")})`);
            continue;
        }
        const s = typeof raw === "number" ? String(raw) : raw;
        // cadvisor reports whole cores (MachineInfo.NumCores is an integer), as a real machine has.
        if (k === "cpu" ? !(typeof s === "string" && /^[1-9]\d{0,4}$/.test(s)) : !(typeof s === "string" && isQuantity(s))) {
            problems.push(k === "cpu" ? `cpu ${JSON.stringify(raw)} must be whole cores, 1 to 99999` : `${k} ${JSON.stringify(raw)} must be a quantity such as 32Gi`);
            continue;
        }
        out[k] = s as string;
    }
    return problems.length > 0 ? no(problems.join("; ")) : ok(out as NodeCapacity);
}

/** Every field of a pool, in the order the README lists them. */
export const POOL_FIELDS = {
    name: {
        default: "(required)",
        accepted: `DNS-1123 label starting with a letter, unique in the stack; \`${DEFAULT_POOL_NAME}\` keeps the flat layout's names`,
        parse: (v: unknown) => typeof v === "string" && v.length <= 30 && /^[a-z]/.test(v) && DNS1123_LABEL.test(v) && !RESERVED_POOL_NAMES.includes(v)
            ? ok(v) : no(`must be a DNS-1123 label of at most 30 characters starting with a letter, not ${RESERVED_POOL_NAMES.join(", ")}`),
    },
    replicas: { default: "(required)", accepted: `0 to ${MAX_REPLICAS} hollow Nodes`, parse: int(0, MAX_REPLICAS) },
    nodesPerPod: { default: "`nodesPerPod`", accepted: `1 to ${MAX_NODES_PER_POD}`, parse: int(1, MAX_NODES_PER_POD), fallback: (f) => f.nodesPerPod },
    labels: {
        default: "`nodeLabels`", accepted: "list of `key=value`",
        parse: items((list, bad) => readPairs(list, (item, seen) => labelItem(item, seen, POOL_SET_LABELS), bad)), fallback: (f) => f.nodeLabels,
    },
    taints: {
        default: "`nodeTaints`", accepted: "list of `key[=value]:Effect`",
        parse: items((list, bad) => sortTaints(readItems(list, taintItem, bad))), fallback: (f) => f.nodeTaints,
    },
    maxPods: { default: "`maxPods`", accepted: "pods per hollow Node, 1 to 100000", parse: int(1, 100000), fallback: (f) => f.maxPods },
    extendedResources: {
        default: "`extendedResources`", accepted: "list of `domain/name=count`",
        parse: items((list, bad) => readPairs(list, extendedResourceItem, bad)), fallback: (f) => f.extendedResources,
    },
    capacity: {
        default: "kubemark's 1 CPU, 3.75 GiB, no ephemeral storage",
        accepted: "`{cpu, memory, ephemeralStorage}`: whole cores and quantities each Node reports (needs an image this program builds)",
        parse: capacity, fallback: () => ({}),
    },
    zones: {
        default: "`[]` (no zone label)", accepted: `DNS-1123 labels; Nodes spread over them round-robin, \`${ZONE_LABEL_KEY}\`, a workload each`,
        parse: items((list, bad) => {
            list.forEach((z, i) => (!/^[a-z]/.test(z) || !DNS1123_LABEL.test(z) || z.length > 20
                ? bad(z, "must be a DNS-1123 label of at most 20 characters starting with a letter")
                : list.indexOf(z) !== i ? bad(z, "is given twice") : undefined));
            return [...new Set(list)];
        }),
        fallback: () => [],
    },
    region: {
        default: "none", accepted: `\`${REGION_LABEL_KEY}\` of every Node of the pool`,
        parse: (v: unknown) => (typeof v === "string" && v !== "" && labelValueProblem(v) === undefined ? ok(v) : no("must be a non-empty label value")),
        fallback: () => "",
    },
    kubeletCpu: { default: "`kubeletCpu`", accepted: "CPU request of each hollow kubelet", parse: quantity, fallback: (f) => f.kubeletCpu },
    kubeletMemory: { default: "`kubeletMemory`", accepted: "memory request of each hollow kubelet", parse: quantity, fallback: (f) => f.kubeletMemory },
    proxyCpu: { default: "`proxyCpu`, else by the pool's replicas", accepted: "CPU request of each hollow proxy", parse: quantity },
    proxyMemory: { default: "`proxyMemory`, else by the pool's replicas", accepted: "memory request of each hollow proxy", parse: quantity },
} satisfies Record<string, PoolField<unknown>>;
export type PoolFieldName = keyof typeof POOL_FIELDS;
export const POOL_FIELD_NAMES = Object.keys(POOL_FIELDS) as PoolFieldName[];

/** The workload (and pod and Node name prefix) of a pool in a zone: the flat layout's own for the default pool. */
export function poolWorkloadName(workloadName: string, pool: string, zone?: string): string {
    return [pool === DEFAULT_POOL_NAME ? workloadName : `${workloadName}-${pool}`, ...(zone === undefined ? [] : [zone])].join("-");
}

/**
 * Reads the `pools` list (a structured config value, JSON as Pulumi hands it over). Every problem of every pool is
 * reported, named `kubemark:pools[i].field`, with the value and what is accepted; undefined when `pools` is unset.
 */
export function readPools(cx: Reading, f: PoolFallback, workloadName: string): PoolSettings[] | undefined {
    const text = cx.str("pools");
    if (text === undefined) {
        return undefined;
    }
    let list: unknown;
    try {
        list = JSON.parse(text);
    } catch {
        list = undefined;
    }
    // Pulumi.yaml's default: no pools, the flat layout.
    if (Array.isArray(list) && list.length === 0) {
        return undefined;
    }
    const where = (i: number, field?: string) => `${cx.full("pools")}[${i}]${field === undefined ? "" : `.${field}`}`;
    if (!Array.isArray(list) || list.length > MAX_POOLS) {
        cx.problems.push(`${cx.full("pools")} = ${text}: must be a list of 1 to ${MAX_POOLS} pools, e.g. ` +
            `pulumi config set --path 'pools[0].name' general && pulumi config set --path 'pools[0].replicas' 6`);
        return [];
    }
    if (cx.str("replicas") !== undefined) {
        cx.problems.push(`${cx.full("replicas")} and ${cx.full("pools")} are both set: with pools, each pool sets its own replicas`);
    }
    const pools: PoolSettings[] = [];
    list.forEach((entry: unknown, i) => {
        if (entry === null || typeof entry !== "object" || Array.isArray(entry)) {
            cx.problems.push(`${where(i)} = ${JSON.stringify(entry)}: must be an object with ${POOL_FIELD_NAMES.join(", ")}`);
            return;
        }
        const given = entry as Record<string, unknown>;
        for (const key of Object.keys(given).filter((k) => !(POOL_FIELD_NAMES as string[]).includes(k))) {
            const near = POOL_FIELD_NAMES.map((n) => [n, editDistance(n.toLowerCase(), key.toLowerCase())] as const).sort((a, b) => a[1] - b[1])[0];
            cx.problems.push(`${where(i, key)}: unknown pool field${near[1] <= 3 ? `; did you mean ${near[0]}?` : ""} Known fields: ${POOL_FIELD_NAMES.join(", ")}`);
        }
        const read: Record<string, unknown> = {};
        for (const name of POOL_FIELD_NAMES) {
            const field: PoolField<unknown> = POOL_FIELDS[name];
            const value = given[name];
            if (value === undefined || value === "") {
                if (field.fallback === undefined && !name.startsWith("proxy")) {
                    cx.problems.push(`${where(i, name)} is required: ${field.accepted}`);
                }
                read[name] = field.fallback?.(f);
                continue;
            }
            const r = field.parse(value, f);
            if ("problem" in r) {
                cx.problems.push(`${where(i, name)} = ${JSON.stringify(value)}: ${r.problem}`);
            }
            read[name] = "value" in r ? r.value : field.fallback?.(f);
        }
        const name = typeof read.name === "string" ? read.name : `pool-${i}`;
        const replicas = typeof read.replicas === "number" ? read.replicas : 0;
        const zones = (read.zones as string[] | undefined) ?? [];
        const longest = [undefined, ...zones].map((z) => poolWorkloadName(workloadName, name, z)).sort((a, b) => b.length - a.length)[0];
        if (longest.length > MAX_WORKLOAD_NAME) {
            cx.problems.push(`${where(i)} (${name}${zones.length > 0 ? `, zones ${zones.join(", ")}` : ""}): its workload ${longest} would be ` +
                `${longest.length} characters, over ${MAX_WORKLOAD_NAME} (a StatefulSet's pods carry it in a 63-character label): shorten the pool or zone names`);
        }
        pools.push({
            name, replicas,
            nodesPerPod: read.nodesPerPod as number,
            nodeLabels: read.labels as [string, string][],
            nodeTaints: read.taints as Taint[],
            maxPods: read.maxPods as number,
            extendedResources: read.extendedResources as [string, string][],
            capacity: read.capacity as NodeCapacity,
            zones,
            region: read.region as string,
            kubeletResources: { cpu: read.kubeletCpu as string, memory: read.kubeletMemory as string },
            proxyResources: poolProxyResources(f, replicas, { cpu: read.proxyCpu as string | undefined, memory: read.proxyMemory as string | undefined }),
        });
    });
    const names = pools.map((p) => p.name);
    for (const dup of [...new Set(names.filter((n, i) => names.indexOf(n) !== i))]) {
        cx.problems.push(`${cx.full("pools")}: pool name ${dup} is given ${names.filter((n) => n === dup).length} times: each pool needs its own name`);
    }
    // Workload names are pod and Node name prefixes: `default` with zone `gpu` and a pool `gpu` would share one.
    const workloads = pools.flatMap((p) => (p.zones.length === 0 ? [undefined] : p.zones).flatMap((z) => {
        const w = poolWorkloadName(workloadName, p.name, z);
        return [[w, p.name], [`${w}${LAST_WORKLOAD_SUFFIX}`, p.name]] as const;
    }));
    const seenWorkloads = new Map<string, string>();
    const clashes = new Set<string>();
    for (const [w, pool] of workloads) {
        const other = seenWorkloads.get(w);
        // A clash of two workloads is also one of their -last twins: said once per pair of pools.
        if (other !== undefined && other !== pool && !clashes.has(`${other}/${pool}`)) {
            clashes.add(`${other}/${pool}`);
            cx.problems.push(`${cx.full("pools")}: pools ${other} and ${pool} would both run workload ${w}: rename a pool or a zone`);
        }
        seenWorkloads.set(w, pool);
    }
    const total = pools.reduce((n, p) => n + p.replicas, 0);
    if (total > MAX_REPLICAS) {
        cx.problems.push(`${cx.full("pools")}: ${total} hollow Nodes in all, over ${MAX_REPLICAS}`);
    }
    return pools;
}

/** The source patch adding the hollow kubelet's capacity flag; an image this program builds names it in its tag. */
export const CAPACITY_PATCH_ID = "capacity";
/** The source patch giving pods addresses of the podCIDR, and its flag `--pod-cidr-lookup`. */
export const POD_IPS_PATCH_ID = "podips";

/**
 * A prebuilt image whose tag does not name the patches the stack's flags need (a pool's capacity: `--node-capacity`;
 * podCidrRange: `--pod-cidr-lookup`): its hollow kubelets would exit at start on the unknown flag. A warning, not a
 * refusal: a retagged or digest-only image may carry them.
 */
export function prebuiltFleetWarning(image: ImageSource, pools: readonly PoolSettings[], podCidrRange: string): string | undefined {
    if (image.kind !== "prebuilt") {
        return undefined;
    }
    const asking = pools.filter((p) => Object.keys(p.capacity).length > 0).map((p) => p.name);
    const named = image.reference.replace(/@sha256:[a-f0-9]{64}$/, "");
    const tag = /:([\w][\w.-]*)$/.exec(named.slice(named.lastIndexOf("/") + 1))?.[1];
    const needs = [
        ...(asking.length > 0 ? [{ id: CAPACITY_PATCH_ID, flag: NODE_CAPACITY_FLAG, why: `pool(s) ${asking.join(", ")} set a capacity` }] : []),
        ...(podCidrRange !== "" ? [{ id: POD_IPS_PATCH_ID, flag: POD_CIDR_LOOKUP_FLAG, why: "podCidrRange is set" }] : []),
    ].filter((n) => tag === undefined || !tag.split("-").includes(n.id));
    if (needs.length === 0) {
        return undefined;
    }
    const ids = needs.map((n) => n.id).join(" and ");
    return `${needs.map((n) => n.why).join(" and ")}, which needs an image with the ${ids} source patch (images this ` +
        `program builds carry it, tagged <release>-...-${needs[0].id}-...); the prebuilt image ${image.reference} ` +
        `${tag === undefined ? "has no tag to tell" : "is not tagged so"}: without the patch its hollow kubelets exit at start on the ` +
        `unknown flag ${needs.map((n) => n.flag).join(" and ")}`;
}

/** The README's table of pool fields. */
export function poolTable(): string {
    const rows = POOL_FIELD_NAMES.map((k) => `| \`${k}\` | ${POOL_FIELDS[k].default} | ${POOL_FIELDS[k].accepted} |`);
    return ["| pool field | default | accepted |", "|---|---|---|", ...rows].join("\n") + "\n";
}
