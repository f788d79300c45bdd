// The portable guarantee suite's sessions area, run by a ZooKeeper-protocol client over the gateway.
import { describeSessionsGuarantees } from '@faaskeeper/core/testkit';
import { wireGatewayTarget } from '../support/wire-client-target.js';

describeSessionsGuarantees(wireGatewayTarget);
