// How an option of `npm run measure` is declared: flag, default, bounds or accepted values, the scenarios it steers.

export type Scenario = "load" | "density" | "churn";
export const SCENARIOS: readonly Scenario[] = ["load", "density", "churn"];

export interface NumberSpec<K extends string = string> {
    readonly key: K;
    readonly flag: string;
    /** Undefined: the run works it out from the stack (`defaultText` says how), or leaves the knob off. */
    readonly default?: number;
    readonly defaultText?: string;
    readonly min: number;
    readonly max: number;
    readonly integer: boolean;
    /** The scenarios the option steers; undefined: all. */
    readonly scenarios?: readonly Scenario[];
    readonly help: string;
}

export interface TextSpec<K extends string = string> {
    readonly key: K;
    readonly flag: string;
    readonly scenarios?: readonly Scenario[];
    /** Accepts the value or says what is accepted. */
    readonly check: (value: string) => string | undefined;
    readonly help: string;
}

/** Options of the scenarios that load the target with pods: load and density. */
export const POD_SCENARIOS: readonly Scenario[] = ["load", "density"];

/** An option that takes several values: given more than once, or as one comma-separated list. */
export interface ListSpec<K extends string = string> {
    readonly key: K;
    readonly flag: string;
    /** What leaving the option out means, for the usage and the README's table. */
    readonly defaultText: string;
    /** What is accepted, for the README's table. */
    readonly acceptedText: string;
    readonly scenarios?: readonly Scenario[];
    /** Accepts one value or says what is accepted. */
    readonly check: (value: string) => string | undefined;
    readonly help: string;
}
