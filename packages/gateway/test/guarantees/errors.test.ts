// The portable guarantee suite's errors area, run by a ZooKeeper-protocol client over the gateway.
import { describeErrorsGuarantees } from '@faaskeeper/core/testkit';
import { wireGatewayTarget } from '../support/wire-client-target.js';

describeErrorsGuarantees(wireGatewayTarget);
