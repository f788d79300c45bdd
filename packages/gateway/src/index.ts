/**
 * @faaskeeper/gateway — serves ZooKeeper's TCP client protocol from a FaaSKeeper deployment, so
 * ZooKeeper clients and applications run unchanged.
 * @packageDocumentation
 */
export { type Gateway, type GatewayDeployment, type GatewayOptions, startGateway } from './gateway.js';
export { JuteError, JuteReader, JuteWriter } from './jute/io.js';
export type { GatewayLogEntry } from './log.js';
