/**
 * @faaskeeper/core/testkit — contract suites for adapters, fault injection and history checking.
 * @packageDocumentation
 */
export {};
