// Syntax checks for Kubernetes names, labels, taints, quantities and IPv4 ranges, shared by the config reader.

/** A DNS-1123 label: what namespaces, pod names and label-name parts must be. */
export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** A DNS-1123 subdomain: label prefixes, Secret names. */
export const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** The name part of a qualified name (label keys, taint keys, resource names). */
const QUALIFIED_NAME_PART = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
/** A label value (may be empty). */
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;
/** resource.Quantity's serialized form. */
const QUANTITY = /^[+]?(\d+(\.\d*)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+)?$/;

/** Returns why `key` is not a qualified name (`[prefix/]name`), or undefined when it is. */
export function qualifiedNameProblem(key: string): string | undefined {
    const parts = key.split("/");
    if (parts.length > 2) {
        return "has more than one '/'";
    }
    const name = parts[parts.length - 1];
    if (parts.length === 2) {
        const prefix = parts[0];
        if (prefix.length === 0 || prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix)) {
            return `prefix "${prefix}" is not a lowercase DNS subdomain`;
        }
    }
    if (name.length === 0 || name.length > 63 || !QUALIFIED_NAME_PART.test(name)) {
        return `name "${name}" must be 1-63 characters of [A-Za-z0-9-_.], starting and ending alphanumeric`;
    }
    return undefined;
}

/** Returns why `value` is not a valid label value, or undefined when it is. */
export function labelValueProblem(value: string): string | undefined {
    if (value.length > 63 || !LABEL_VALUE.test(value)) {
        return "a label value must be at most 63 characters of [A-Za-z0-9-_.], starting and ending alphanumeric";
    }
    return undefined;
}

export function isQuantity(value: string): boolean {
    return QUANTITY.test(value);
}

/** Levenshtein distance, for "did you mean" hints on mistyped config keys. */
export function editDistance(a: string, b: string): number {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
        let prev = row[0];
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const tmp = row[j];
            row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
            prev = tmp;
        }
    }
    return row[b.length];
}

// IPv4 block arithmetic on 32-bit numbers is a few lines; the IP libraries on npm parse addresses but allocate no
// subnets, so it is written here (allocation: reaper/podCidrs.ts).
/** A Node's podCIDR is this many addresses or fewer: /16 is a quarter of what kube-controller-manager allows. */
export const MIN_POD_CIDR_MASK = 16;
export const MAX_POD_CIDR_MASK = 30;

export interface Block { readonly start: number; readonly size: number }

const ipv4 = (text: string): number | undefined => {
    const parts = text.split(".");
    if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
        return undefined;
    }
    return parts.reduce((n, p) => n * 256 + Number(p), 0);
};
export const ipv4Text = (n: number) => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");

/** An IPv4 CIDR as its first address and size; undefined for anything else (IPv6 included). */
export function parseCidr(cidr: string): Block | undefined {
    const m = /^([\d.]+)\/(\d{1,2})$/.exec(cidr.trim());
    const start = m ? ipv4(m[1]) : undefined;
    const bits = m ? Number(m[2]) : NaN;
    if (start === undefined || !(bits >= 0 && bits <= 32)) {
        return undefined;
    }
    const size = 2 ** (32 - bits);
    return { start: start - (start % size), size };
}
