CREATE TABLE "purchases" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"wallet_id" uuid NOT NULL,
	"settlement_wallet_id" uuid NOT NULL,
	"provider" text NOT NULL,
	"product_id" text NOT NULL,
	"catalog_version" text NOT NULL,
	"amount" bigint NOT NULL,
	"currency" char(3) NOT NULL,
	"recipient" text,
	"reference" text,
	"status" text DEFAULT 'pending' NOT NULL,
	"fulfilment" jsonb,
	"failure_code" text,
	"principal" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"request_fingerprint" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"settled_at" timestamp with time zone,
	"settle_attempts" integer DEFAULT 0 NOT NULL,
	"next_settle_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "purchase_amount_positive" CHECK ("purchases"."amount" > 0),
	CONSTRAINT "purchase_settled_when_final" CHECK (("purchases"."status" = 'pending') = ("purchases"."settled_at" IS NULL)),
	CONSTRAINT "purchase_completed_has_fulfilment" CHECK (("purchases"."status" = 'completed') = ("purchases"."fulfilment" IS NOT NULL)),
	CONSTRAINT "purchase_failed_has_code" CHECK (("purchases"."status" = 'failed') = ("purchases"."failure_code" IS NOT NULL))
);
--> statement-breakpoint
ALTER TABLE "journal_entries" DROP CONSTRAINT "journal_one_source";--> statement-breakpoint
ALTER TABLE "wallets" DROP CONSTRAINT "user_wallet_balance_not_negative";--> statement-breakpoint
ALTER TABLE "wallets" DROP CONSTRAINT "owner_matches_kind";--> statement-breakpoint
ALTER TABLE "journal_entries" ADD COLUMN "purchase_id" uuid;--> statement-breakpoint
ALTER TABLE "wallets" ADD COLUMN "provider" text;--> statement-breakpoint
ALTER TABLE "purchases" ADD CONSTRAINT "purchases_wallet_id_wallets_id_fk" FOREIGN KEY ("wallet_id") REFERENCES "public"."wallets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "purchases" ADD CONSTRAINT "purchases_settlement_wallet_id_wallets_id_fk" FOREIGN KEY ("settlement_wallet_id") REFERENCES "public"."wallets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "purchases_principal_idempotency_key" ON "purchases" USING btree ("principal","idempotency_key");--> statement-breakpoint
CREATE INDEX "purchases_wallet" ON "purchases" USING btree ("wallet_id");--> statement-breakpoint
CREATE INDEX "purchases_due" ON "purchases" USING btree ("next_settle_at") WHERE "purchases"."status" = 'pending';--> statement-breakpoint
ALTER TABLE "journal_entries" ADD CONSTRAINT "journal_entries_purchase_id_purchases_id_fk" FOREIGN KEY ("purchase_id") REFERENCES "public"."purchases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "one_settlement_account_per_provider_currency" ON "wallets" USING btree ("provider","currency") WHERE "wallets"."kind" = 'settlement';--> statement-breakpoint
ALTER TABLE "journal_entries" ADD CONSTRAINT "journal_one_source" CHECK (num_nonnulls("journal_entries"."transfer_id", "journal_entries"."deposit_id", "journal_entries"."purchase_id") = 1);--> statement-breakpoint
ALTER TABLE "wallets" ADD CONSTRAINT "provider_matches_kind" CHECK (("wallets"."kind" = 'settlement') = ("wallets"."provider" IS NOT NULL));--> statement-breakpoint
ALTER TABLE "wallets" ADD CONSTRAINT "user_wallet_balance_not_negative" CHECK ("wallets"."kind" <> 'user' OR "wallets"."balance" >= 0);--> statement-breakpoint
ALTER TABLE "wallets" ADD CONSTRAINT "owner_matches_kind" CHECK (("wallets"."kind" = 'user') = ("wallets"."owner_id" IS NOT NULL));