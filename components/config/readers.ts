// Generic config readers: a table of per-key rows read in order, every problem collected with its key and value.
import { CONFIG_KEYS, CONFIG_NAMESPACE, ConfigKey, SECRET_KEYS } from "./settings";
import { editDistance, isQuantity } from "./validate";

/** Raised with every problem found, so one preview shows them all. */
export class ConfigError extends Error {
    constructor(readonly problems: readonly string[]) {
        super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
        this.name = "ConfigError";
    }
}

export interface RawConfig {
    /** Values as Pulumi hands them over: strings, structured values JSON-encoded. */
    readonly values: Readonly<Record<string, string | undefined>>;
    /** Full keys (`kubemark:x`) stored encrypted. */
    readonly secretKeys: ReadonlySet<string>;
    readonly project: string;
    readonly stack: string;
    /** Environment, for the default kubeconfig (KUBECONFIG, HOME). */
    readonly env: Readonly<Record<string, string | undefined>>;
}

/** One pass over raw config; problems accumulate so one preview shows them all. */
export interface Reading {
    readonly raw: RawConfig;
    readonly problems: string[];
    full(key: ConfigKey): string;
    /** The value as set, undefined when unset. */
    str(key: ConfigKey): string | undefined;
    /** Records a refused value with what is accepted; a secret key's value is never echoed. */
    bad(key: ConfigKey, value: string, accepted: string): void;
}

export function startReading(raw: RawConfig): Reading {
    const problems: string[] = [];
    const full = (key: ConfigKey) => `${CONFIG_NAMESPACE}:${key}`;
    return {
        raw,
        problems,
        full,
        // Pulumi.yaml declares optional keys with default "" (a declared key without a default is
        // required by the CLI), so an empty value means "unset: use the default".
        str: (key) => {
            const v = raw.values[full(key)];
            return v === undefined || v.trim() === "" ? undefined : v;
        },
        bad: (key, value, accepted) => {
            const shown = SECRET_KEYS.includes(key) ? "[secret]" : JSON.stringify(value);
            problems.push(`${full(key)} = ${shown}: ${accepted}`);
        },
    };
}

/** Unknown keys (a typo would otherwise silently fall back to a default) and credentials in plain text. */
export function checkKeys(cx: Reading): void {
    const known = new Set<string>(CONFIG_KEYS);
    for (const fullKey of Object.keys(cx.raw.values)) {
        if (!fullKey.startsWith(`${CONFIG_NAMESPACE}:`)) {
            continue;
        }
        const key = fullKey.slice(CONFIG_NAMESPACE.length + 1);
        if (!known.has(key)) {
            const near = CONFIG_KEYS.map((k) => [k, editDistance(k.toLowerCase(), key.toLowerCase())] as const)
                .sort((a, b) => a[1] - b[1])[0];
            const hint = near[1] <= 3 ? `; did you mean ${CONFIG_NAMESPACE}:${near[0]}?` : "";
            cx.problems.push(`${fullKey}: unknown key${hint} Known keys: ${CONFIG_KEYS.join(", ")}`);
        }
    }
    for (const key of SECRET_KEYS) {
        if (cx.str(key) !== undefined && !cx.raw.secretKeys.has(cx.full(key))) {
            cx.problems.push(`${cx.full(key)}: holds credentials and must be stored encrypted: ` +
                `pulumi config set --secret ${key} < FILE`);
        }
    }
}

/** A default, or one computed from values read above it in the table (and the stack). */
export type Default<T, Got> = T | ((got: Got, raw: RawConfig) => T);

/** A row reads the one key it is listed under. */
export interface Row<T, Got = unknown> {
    /** The value of a set key; undefined refuses it, and the default stands in so later rows still read. */
    readonly parse: (value: string, raw: RawConfig) => T | undefined;
    /** Said with a refused value. */
    readonly accepted: string;
    readonly default: (got: Got, raw: RawConfig) => T;
}

/** For keys whose meaning depends on other keys: reads whatever it needs and reports its own problems. */
export type CrossKeyReader<T, Got = unknown> = (cx: Reading, got: Got) => T;

function row<T, Got>(parse: Row<T, Got>["parse"], accepted: string, def: Default<T, Got>): Row<T, Got> {
    const computed = typeof def === "function" ? def as (got: Got, raw: RawConfig) => T : undefined;
    return { parse, accepted, default: computed ?? (() => def as T) };
}

export function int<Got>(def: Default<number, Got>, min: number, max: number): Row<number, Got> {
    return row((v) => /^\s*[+-]?\d+\s*$/.test(v) && Number(v) >= min && Number(v) <= max ? Number(v) : undefined,
        `must be a whole number from ${min} to ${max}`, def);
}

export function bool<Got>(def: Default<boolean, Got>): Row<boolean, Got> {
    return row((v) => v === "true" ? true : v === "false" ? false : undefined, "must be true or false", def);
}

export function oneOf<T extends string, Got>(choices: readonly T[], def: Default<T, Got>): Row<T, Got> {
    return row((v) => (choices as readonly string[]).includes(v) ? v as T : undefined, `must be one of ${choices.join(", ")}`, def);
}

export function quantity<Got>(def: Default<string, Got>): Row<string, Got> {
    return row((v) => isQuantity(v) ? v : undefined, "must be a Kubernetes quantity such as 40m, 0.5, 100Mi or 1Gi", def);
}

/** Free text; only a set value is checked, as the defaults are this program's own. */
export function text<D extends string | undefined, Got>(
    def: Default<D, Got>, ok: (value: string, raw: RawConfig) => boolean, accepted: string,
): Row<string | D, Got> {
    return row<string | D, Got>((v, raw) => ok(v, raw) ? v : undefined, accepted, def);
}

/** A list of strings, for the cross-key readers; undefined when unset or refused. */
export function list(cx: Reading, key: ConfigKey): string[] | undefined {
    const v = cx.str(key);
    if (v === undefined) {
        return undefined;
    }
    let parsed: unknown;
    try {
        parsed = JSON.parse(v);
    } catch {
        parsed = undefined;
    }
    if (!Array.isArray(parsed) || parsed.some((e) => typeof e !== "string")) {
        cx.bad(key, v, `must be a list of strings, e.g. pulumi config set --path '${key}[0]' <item>`);
        return undefined;
    }
    return parsed as string[];
}

type Entry = Row<unknown, never> | CrossKeyReader<unknown, never>;
/** A row must sit under its own key's name; cross-key readers may sit under any name. */
export type Table<R> = { [K in keyof R]: K extends ConfigKey ? Entry : CrossKeyReader<unknown, never> };
export type Values<R> = {
    [K in keyof R]: R[K] extends CrossKeyReader<infer T, never> ? T : R[K] extends Row<infer T, never> ? T : never
};

/**
 * Reads every entry in table order, so an entry may use the values above it, and problems are listed in the
 * order of the table.
 */
export function readTable<R extends Table<R>>(cx: Reading, table: R): Values<R> {
    const got: Record<string, unknown> = {};
    for (const [name, entry] of Object.entries(table) as [string, Entry][]) {
        if (typeof entry === "function") {
            got[name] = entry(cx, got as never);
            continue;
        }
        const key = name as ConfigKey;
        const set = cx.str(key);
        const parsed = set === undefined ? undefined : entry.parse(set, cx.raw);
        if (set !== undefined && parsed === undefined) {
            cx.bad(key, set, entry.accepted);
        }
        got[name] = parsed ?? entry.default(got as never, cx.raw);
    }
    return got as Values<R>;
}
