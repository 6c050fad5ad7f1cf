import { Module } from '@nestjs/common';
import { AgentsModule } from '../agents/agents.module.js';
import { ConnectionsModule } from '../connections/connections.module.js';
import { IdentityModule } from '../identity/identity.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { PoliciesModule } from '../policies/policies.module.js';
import { ReviewsModule } from '../reviews/reviews.module.js';
import { GrantsModule } from '../grants/grants.module.js';
import { AgentControlHandler } from './agent-control.handler.js';
import { AgentSessionHandler } from './agent-session.handler.js';
import { ClientAuthenticator } from './client-authenticator.js';
import { EnrollHandler } from './enroll.handler.js';
import { ExecHandler } from './exec.handler.js';
import { GrpcGateway } from './grpc-gateway.js';
import { SessionBroker } from './session-broker.js';
import { SessionOpener } from './session-opener.js';
import { SessionResumer } from './session-resumer.js';
import { TunnelHandler } from './tunnel.handler.js';

@Module({
  imports: [AgentsModule, ConnectionsModule, IdentityModule, SessionsModule, PoliciesModule, ReviewsModule, GrantsModule],
  providers: [
    SessionBroker,
    SessionOpener,
    SessionResumer,
    ClientAuthenticator,
    EnrollHandler,
    AgentControlHandler,
    AgentSessionHandler,
    TunnelHandler,
    ExecHandler,
    GrpcGateway,
  ],
  exports: [GrpcGateway],
})
export class GatewayModule {}
