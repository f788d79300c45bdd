/**
 * FaaSKeeper on Google Cloud as infrastructure as code: a Terraform JSON configuration, the bundled
 * function sources, and deploy/destroy through the `terraform` command.
 * @packageDocumentation
 */
export * from './bundle.js';
export * from './configuration.js';
export * from './credentials.js';
export * from './deploy.js';
export * from './names.js';
export * from './permissions.js';
export * from './runtime.js';
export * from './synth.js';
export * from './terraform.js';
export * from './zip.js';
