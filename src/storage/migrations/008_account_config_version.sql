-- A counter per account that moves whenever something the analysis pipeline reads about the account
-- changes: its assignment rules, quality profiles (a new version moves current_version), analysis
-- settings, or the account row itself (the webhook flag). Workers keep that configuration in memory
-- and read it again only when the counter they see with an interaction has moved. Triggers keep it
-- right whoever writes (the API, a migration, an operator's SQL).
ALTER TABLE accounts ADD COLUMN config_version bigint NOT NULL DEFAULT 0;

CREATE FUNCTION count_account_config_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- On a cascade from a deleted account the account row is gone already and nothing is updated.
  UPDATE accounts SET config_version = config_version + 1
  WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.account_id ELSE NEW.account_id END;
  RETURN NULL;
END $$;

CREATE TRIGGER assignment_rules_config_version AFTER INSERT OR UPDATE OR DELETE ON assignment_rules
  FOR EACH ROW EXECUTE FUNCTION count_account_config_change();
CREATE TRIGGER quality_profiles_config_version AFTER INSERT OR UPDATE OR DELETE ON quality_profiles
  FOR EACH ROW EXECUTE FUNCTION count_account_config_change();
CREATE TRIGGER analysis_settings_config_version AFTER INSERT OR UPDATE OR DELETE ON analysis_settings
  FOR EACH ROW EXECUTE FUNCTION count_account_config_change();

CREATE FUNCTION count_account_row_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.config_version = OLD.config_version THEN
    NEW.config_version := OLD.config_version + 1;
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER accounts_config_version BEFORE UPDATE ON accounts
  FOR EACH ROW EXECUTE FUNCTION count_account_row_change();
