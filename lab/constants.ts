// The lab's fixed names, addresses and images, read from lab/constants.env, which its shell scripts source too.
import * as fs from "node:fs";
import * as path from "node:path";

import { ROOT } from "../test/harness/paths";

export const CONSTANTS_FILE = path.join(ROOT, "lab", "constants.env");

/** `KEY=value` lines; `#` comments and blank lines skipped. No quoting or expansion: the file has none. */
export function parseEnvFile(text: string): Record<string, string> {
    const values: Record<string, string> = {};
    for (const [i, raw] of text.split("\n").entries()) {
        const line = raw.trim();
        if (line === "" || line.startsWith("#")) {
            continue;
        }
        const m = /^([A-Z][A-Z0-9_]*)=([^\s"'$`]*)$/.exec(line);
        if (!m) {
            throw new Error(`${CONSTANTS_FILE}:${i + 1}: not KEY=value without quotes or spaces: ${line}`);
        }
        values[m[1]] = m[2];
    }
    return values;
}

const KEYS = ["NETNS", "LAB_IP", "NODE_IP", "CNI_BR", "POD_CIDR", "POD_GW", "OLD_LAB_IF", "NODE_NAME", "NODE_API_PORT",
    "TARGET_API_PORT", "NODE_ETCD", "TARGET_ETCD", "NODE_CM_PORT", "NODE_SCHEDULER_PORT", "TARGET_CM_PORT", "TARGET_SCHEDULER_PORT", "NODE_SERVICE_CIDR", "NODE_SERVICE_IP", "TARGET_SERVICE_CIDR",
    "TARGET_SERVICE_IP", "TARGET_CLUSTER_CIDR", "TARGET_NODE_CIDR_MASK", "REGISTRY", "PAUSE_IMAGE", "BUSYBOX_IMAGE"] as const;
export type LabConstant = typeof KEYS[number];

function load(): Readonly<Record<LabConstant, string>> {
    const values = parseEnvFile(fs.readFileSync(CONSTANTS_FILE, "utf8"));
    const missing = KEYS.filter((k) => values[k] === undefined);
    if (missing.length > 0) {
        throw new Error(`${CONSTANTS_FILE}: missing ${missing.join(", ")}`);
    }
    return Object.freeze(Object.fromEntries(KEYS.map((k) => [k, values[k]])) as Record<LabConstant, string>);
}

export const LAB_CONSTANTS = load();

/** The target's etcd, scheduler and controller manager /metrics, on the lab's loopback (as lab/measure.sh). */
export function labMetricsArgs(): string[] {
    const c = LAB_CONSTANTS;
    return ["--etcd-metrics-url", `http://127.0.0.1:${c.TARGET_ETCD}/metrics`,
        "--scheduler-metrics-url", `https://127.0.0.1:${c.TARGET_SCHEDULER_PORT}/metrics`,
        "--controller-manager-metrics-url", `https://127.0.0.1:${c.TARGET_CM_PORT}/metrics`];
}
