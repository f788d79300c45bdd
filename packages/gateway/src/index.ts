/**
 * @faaskeeper/gateway — serves ZooKeeper's TCP client protocol from a FaaSKeeper deployment.
 * @packageDocumentation
 */
export {};
