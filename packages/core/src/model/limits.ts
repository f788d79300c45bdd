/** ZooKeeper's default `jute.maxbuffer`: the largest node data accepted. */
export const MAX_DATA_BYTES = 1024 * 1024;
