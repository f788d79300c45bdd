// The portable guarantee suite's containers-ttl area, run by a ZooKeeper-protocol client over the gateway.
import { describeContainersTtlGuarantees } from '@faaskeeper/core/testkit';
import { wireGatewayTarget } from '../support/wire-client-target.js';

describeContainersTtlGuarantees(wireGatewayTarget);
