import { type DynamicModule, Module } from '@nestjs/common';
import { AgentsModule } from './agents/agents.module.js';
import { AuditModule } from './audit/audit.module.js';
import { type CoreDependencies, CoreModule } from './common/core.module.js';
import { ConnectionsModule } from './connections/connections.module.js';
import { databaseModule } from './database/database.module.js';
import { GatewayModule } from './gateway/gateway.module.js';
import { GrantsModule } from './grants/grants.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { ReviewsModule } from './reviews/reviews.module.js';
import { PoliciesModule } from './policies/policies.module.js';
import { HealthController } from './health/health.controller.js';
import { IdentityModule } from './identity/identity.module.js';
import { SessionsModule } from './sessions/sessions.module.js';

@Module({})
export class AppModule {
  static forRoot(deps: CoreDependencies): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot(deps),
        databaseModule(deps.config.database),
        AuditModule,
        IdentityModule,
        AgentsModule,
        ConnectionsModule,
        PoliciesModule,
        SessionsModule,
        ReviewsModule,
        GrantsModule,
        MetricsModule,
        GatewayModule,
      ],
      controllers: [HealthController],
    };
  }
}
