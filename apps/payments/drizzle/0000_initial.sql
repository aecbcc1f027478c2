CREATE TABLE "catalog_versions" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"provider" text NOT NULL,
	"version" text NOT NULL,
	"product_count" integer NOT NULL,
	"payload" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "deposits" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"wallet_id" uuid NOT NULL,
	"amount" bigint NOT NULL,
	"currency" char(3) NOT NULL,
	"reference" text,
	"principal" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"request_fingerprint" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "deposit_amount_positive" CHECK ("deposits"."amount" > 0)
);
--> statement-breakpoint
CREATE TABLE "journal_entries" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"wallet_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"direction" text NOT NULL,
	"amount" bigint NOT NULL,
	"balance_after" bigint NOT NULL,
	"transfer_id" uuid,
	"deposit_id" uuid,
	"counterparty_wallet_id" uuid,
	"reference" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "journal_entries_id_unique" UNIQUE("id"),
	CONSTRAINT "journal_amount_positive" CHECK ("journal_entries"."amount" > 0),
	CONSTRAINT "journal_one_source" CHECK (("journal_entries"."transfer_id" IS NULL) <> ("journal_entries"."deposit_id" IS NULL))
);
--> statement-breakpoint
CREATE TABLE "transfers" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"from_wallet_id" uuid NOT NULL,
	"to_wallet_id" uuid NOT NULL,
	"amount" bigint NOT NULL,
	"currency" char(3) NOT NULL,
	"reference" text,
	"status" text DEFAULT 'completed' NOT NULL,
	"principal" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"request_fingerprint" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "transfer_amount_positive" CHECK ("transfers"."amount" > 0),
	CONSTRAINT "transfer_distinct_wallets" CHECK ("transfers"."from_wallet_id" <> "transfers"."to_wallet_id")
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"api_key_hash" char(64) NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "users_api_key_hash_unique" UNIQUE("api_key_hash")
);
--> statement-breakpoint
CREATE TABLE "wallets" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"owner_id" uuid,
	"kind" text DEFAULT 'user' NOT NULL,
	"currency" char(3) NOT NULL,
	"balance" bigint DEFAULT 0 NOT NULL,
	"lock_fence" bigint DEFAULT 0 NOT NULL,
	"idempotency_key" text,
	"request_fingerprint" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "user_wallet_balance_not_negative" CHECK ("wallets"."kind" = 'system' OR "wallets"."balance" >= 0),
	CONSTRAINT "owner_matches_kind" CHECK (("wallets"."kind" = 'system') = ("wallets"."owner_id" IS NULL))
);
--> statement-breakpoint
ALTER TABLE "deposits" ADD CONSTRAINT "deposits_wallet_id_wallets_id_fk" FOREIGN KEY ("wallet_id") REFERENCES "public"."wallets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "journal_entries" ADD CONSTRAINT "journal_entries_wallet_id_wallets_id_fk" FOREIGN KEY ("wallet_id") REFERENCES "public"."wallets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "journal_entries" ADD CONSTRAINT "journal_entries_transfer_id_transfers_id_fk" FOREIGN KEY ("transfer_id") REFERENCES "public"."transfers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "journal_entries" ADD CONSTRAINT "journal_entries_deposit_id_deposits_id_fk" FOREIGN KEY ("deposit_id") REFERENCES "public"."deposits"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "journal_entries" ADD CONSTRAINT "journal_entries_counterparty_wallet_id_wallets_id_fk" FOREIGN KEY ("counterparty_wallet_id") REFERENCES "public"."wallets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_from_wallet_id_wallets_id_fk" FOREIGN KEY ("from_wallet_id") REFERENCES "public"."wallets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_to_wallet_id_wallets_id_fk" FOREIGN KEY ("to_wallet_id") REFERENCES "public"."wallets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "wallets" ADD CONSTRAINT "wallets_owner_id_users_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "catalog_versions_provider_seq" ON "catalog_versions" USING btree ("provider","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "deposits_principal_idempotency_key" ON "deposits" USING btree ("principal","idempotency_key");--> statement-breakpoint
CREATE INDEX "journal_wallet_seq" ON "journal_entries" USING btree ("wallet_id","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "transfers_principal_idempotency_key" ON "transfers" USING btree ("principal","idempotency_key");--> statement-breakpoint
CREATE INDEX "transfers_from_wallet" ON "transfers" USING btree ("from_wallet_id");--> statement-breakpoint
CREATE INDEX "transfers_to_wallet" ON "transfers" USING btree ("to_wallet_id");--> statement-breakpoint
CREATE UNIQUE INDEX "one_system_wallet_per_currency" ON "wallets" USING btree ("currency") WHERE "wallets"."kind" = 'system';--> statement-breakpoint
CREATE UNIQUE INDEX "wallets_owner_idempotency_key" ON "wallets" USING btree ("owner_id","idempotency_key");--> statement-breakpoint
CREATE INDEX "wallets_owner" ON "wallets" USING btree ("owner_id");