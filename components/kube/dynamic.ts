// What the dynamic providers share (args, log, request bound, advice), and the Pulumi SDK details beyond its API.
import type * as pulumi from "@pulumi/pulumi";
import type { Log } from "./async";

/**
 * A dynamic resource's args in the program: its provider's inputs as Pulumi inputs, less the version it sets itself.
 */
export type DynamicArgs<T> = { [K in keyof Omit<T, "providerVersion">]: pulumi.Input<T[K]> };

/** A single API call never waits longer than this, whatever the bound of the wait around it. */
export const REQUEST_MS = 15_000;

/** The dynamic provider's stdout goes to the Pulumi log, prefixed so users can tell our lines apart. */
export const providerLog: Log = (message) => console.log(`[kubemark] ${message}`);

/** What to do when an API server gives no answer; said by every provider that gives up on one. */
export const RETRY_ADVICE = "Check that the API server is up and the kubeconfig still works, then run the command again";

/**
 * The wire value the engine sends for an input that is unknown during a preview (sdk/nodejs runtime/rpc.ts,
 * `unknownValue`); the dynamic provider host hands it to `check` as a plain string.
 */
export const UNKNOWN_INPUT = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** The input under which the engine stores a dynamic provider's serialized code; it is never an input of ours. */
export const PROVIDER_CODE_KEY = "__provider";

/** Names of the inputs that differ between two input sets, the provider's own code aside. */
export function changedKeys<T extends object>(olds: T, news: T): string[] {
    const keys = new Set([...Object.keys(olds), ...Object.keys(news)]);
    return [...keys].filter((k) => k !== PROVIDER_CODE_KEY
        && JSON.stringify((olds as Record<string, unknown>)[k]) !== JSON.stringify((news as Record<string, unknown>)[k]));
}

/**
 * `runtime.isConfigSecret` (sdk/nodejs/runtime/config.ts) tells whether a config key is stored encrypted; it is
 * exported but not in the typings. Undefined if a future SDK drops it: then no key can be checked.
 */
export function configSecretCheck(runtime: object): ((fullKey: string) => boolean) | undefined {
    const check = (runtime as { isConfigSecret?: unknown }).isConfigSecret;
    return typeof check === "function" ? (check as (fullKey: string) => boolean) : undefined;
}
